//! A lost or stolen card: a personnel officer of the person's agency (or the portal's operator)
//! stops its access.
//!
//! - [`stop_registration`] removes the person's NHI-card registrations (pending or active) with
//!   their unused links and password-guess counts, and ends their NHI-card sessions: whoever
//!   holds the card and the password gets nothing more, and the person registers again with
//!   their new card.
//! - [`remove_bindings`] removes the person's citizen-certificate bindings and ends their
//!   certificate sessions; their next certificate login binds afresh under the first-login
//!   checks.
//!
//! Each removal is in the audit trail (who did it, the card or certificate masked) in the same
//! transaction, and the person is told at every address on file; the mail names neither the
//! card number nor the ID in full.

use serde::{Deserialize, Serialize};

use super::apps::{PROOFING_SITE, caller_for};
use super::auth::SessionToken;
use super::env::millis;
use super::local::LocalPortal;
use crate::db::outbox::enqueue;
use crate::db::{challenges, employees, registrations, sessions};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::{Email, NationalId};

/// What a stop or removal did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct AccessRevoked {
    /// Registrations or certificate bindings removed (0: there were none, nothing was sent).
    pub removed: u32,
    /// Sessions of the person that were open by that means and have ended.
    pub sessions_ended: u32,
    /// The addresses the person was told at, masked.
    pub notified: Vec<String>,
}

/// Who removes someone's access.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Remover<'a> {
    /// A personnel officer's session.
    Officer(&'a SessionToken),
    /// The portal's operator, by the name they gave.
    Operator(&'a str),
}

/// What is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Means {
    NhiCard,
    Certificate,
}

impl Means {
    fn action(self) -> &'static str {
        match self {
            Means::NhiCard => "registration.stop",
            Means::Certificate => "certificate.unbind",
        }
    }
}

/// Removes `id`'s NHI-card registrations: see the module documentation.
pub(crate) fn stop_registration(p: &LocalPortal, by: Remover<'_>, id: &NationalId) -> Result<AccessRevoked> {
    revoke(p, by, id, Means::NhiCard)
}

/// Removes `id`'s certificate bindings: see the module documentation.
pub(crate) fn remove_bindings(p: &LocalPortal, by: Remover<'_>, id: &NationalId) -> Result<AccessRevoked> {
    revoke(p, by, id, Means::Certificate)
}

fn revoke(p: &LocalPortal, by: Remover<'_>, id: &NationalId, means: Means) -> Result<AccessRevoked> {
    // An officer acts for their own agency, at the proofing site's level like every other
    // officer function.
    let officer = match by {
        Remover::Officer(token) => {
            let c = caller_for(p, token, PROOFING_SITE)?;
            c.officer_agency()?;
            Some(c)
        }
        Remover::Operator(name) => {
            super::audit::operator_name(name)?;
            None
        }
    };
    let now = millis(p.now());
    p.store.write(|tx| {
        let person = employees::by_national_id(tx, id)?
            .ok_or_else(|| Error::with(ErrorCode::EmployeeNotFound, id.masked(), id.masked()))?;
        let employee = person.id;
        if let Some(c) = &officer
            && person.agency_code != c.agency_code
        {
            return Err(Error::with(ErrorCode::EmployeeNotInAgency, id.masked(), id.masked()));
        }
        let mut addresses: Vec<String> = person.email.into_iter().collect();
        let objects = match means {
            Means::NhiCard => remove_registrations(tx, id, &mut addresses)?,
            Means::Certificate => remove_certificate_bindings(tx, employee)?,
        };
        if objects.is_empty() {
            return Ok(AccessRevoked {
                removed: 0,
                sessions_ended: 0,
                notified: Vec::new(),
            });
        }
        let method = match means {
            Means::NhiCard => "nhi_card",
            Means::Certificate => "certificate",
        };
        let sessions_ended = sessions::end_by_method(tx, employee, method, now)?;
        for object in &objects {
            let (action, subject, object) = (means.action(), Some(employee), Some(object.as_str()));
            match by {
                Remover::Operator(name) => {
                    crate::db::audit::record_operator(tx, now, name, action, subject, object, None)?
                }
                Remover::Officer(_) => {
                    let actor = officer.as_ref().map(|c| c.employee_id);
                    crate::db::audit::record(tx, now, actor, action, subject, object, None)?;
                }
            }
        }
        addresses.sort();
        addresses.dedup();
        let mut notified = Vec::new();
        for to in &addresses {
            tell(tx, now, to, means)?;
            notified.push(Email::parse(to).map_or_else(|_| "***".to_owned(), |e| e.masked()));
        }
        Ok(AccessRevoked {
            removed: objects.len() as u32,
            sessions_ended: sessions_ended as u32,
            notified,
        })
    })
}

/// Deletes the person's registrations, their links and guess counts; returns them masked for
/// the audit trail and adds their addresses to `addresses`.
fn remove_registrations(tx: &mut dyn Tx, id: &NationalId, addresses: &mut Vec<String>) -> Result<Vec<String>> {
    let held = registrations::of_person(tx, id)?;
    let mut objects = Vec::new();
    for r in held {
        let card = r.card_number;
        addresses.extend([Some(r.email), r.spare_email].into_iter().flatten());
        registrations::remove(tx, &card)?;
        super::guard::clear(tx, super::guard::Subject::Card(&card))?;
        let masked = crate::types::CardNumber::parse(&card).map_or_else(|_| "***".to_owned(), |c| c.masked());
        objects.push(format!("nhi_card:{masked}"));
    }
    Ok(objects)
}

/// Deletes the person's certificate bindings; returns them for the audit trail (the key's kind
/// and the holder's issuer, never a serial number in full).
fn remove_certificate_bindings(tx: &mut dyn Tx, employee: i64) -> Result<Vec<String>> {
    let keys = challenges::binding_keys(tx, employee)?;
    challenges::unbind_all(tx, employee)?;
    Ok(keys
        .iter()
        .map(|key| {
            let kind = key.split(':').next().unwrap_or("certificate");
            format!("certificate:{kind}:{}", &super::env::token_hash(key)[..12])
        })
        .collect())
}

/// Tells the person their card's access was stopped.
fn tell(tx: &mut dyn Tx, now: i64, to: &str, means: Means) -> Result<()> {
    let (subject, body) = match means {
        Means::NhiCard => (
            "健保卡網路服務註冊已停用 Your NHI card registration was stopped",
            "您好：\n\n服務機關人事單位（或系統管理者）已停用您的健保卡網路服務註冊，使用該卡的登入已結束。\n\
             若您的健保卡遺失或已換發，請以新卡重新註冊；若不是您要求的，請洽服務機關人事單位。\n\n----\nHello,\n\n\
             Your personnel office (or the portal's operator) stopped your NHI card registration for online services, \
             and the logins with it have ended.\nIf your card was lost or replaced, register again with the new card; \
             if you did not ask for this, ask your personnel office.\n",
        ),
        Means::Certificate => (
            "自然人憑證綁定已移除 Your citizen certificate binding was removed",
            "您好：\n\n服務機關人事單位（或系統管理者）已移除您的自然人憑證與帳號的綁定，使用該憑證的登入已結束。\n\
             下次以自然人憑證（含新卡）登入時，請輸入 eCPA 帳號或身分證字號重新綁定；若不是您要求的，請洽服務機關人事單位。\n\n\
             ----\nHello,\n\nYour personnel office (or the portal's operator) removed the binding of your citizen \
             certificate to your account, and the logins with it have ended.\nAt your next certificate login (a new \
             card too) enter your eCPA account name or national ID to bind it again; if you did not ask for this, ask \
             your personnel office.\n",
        ),
    };
    let kind = match means {
        Means::NhiCard => "registration_stopped",
        Means::Certificate => "certificate_unbound",
    };
    enqueue(tx, now, to, subject, body, kind, None)?;
    Ok(())
}

impl LocalPortal {
    /// [`Portal::stop_nhi_registration`](super::Portal::stop_nhi_registration) by the portal's operator (`ecpa registration stop`),
    /// for a person of any agency, in the audit trail under `operator`.
    pub fn stop_nhi_registration_as_operator(&self, national_id: &NationalId, operator: &str) -> Result<AccessRevoked> {
        stop_registration(self, Remover::Operator(operator), national_id)
    }

    /// [`Portal::remove_certificate_binding`](super::Portal::remove_certificate_binding) by the portal's operator (`ecpa certificate
    /// unbind`), in the audit trail under `operator`.
    pub fn remove_certificate_binding_as_operator(
        &self,
        national_id: &NationalId,
        operator: &str,
    ) -> Result<AccessRevoked> {
        remove_bindings(self, Remover::Operator(operator), national_id)
    }
}
