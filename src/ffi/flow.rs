//! Consent, award orders and proofing: the calls a logged-in person or officer makes.

use std::ffi::c_char;

use super::portal::{EcpaPortal, EcpaSession, json_call, ps};
use super::{StrOut, call, get, lang, opt_text, out, put, text};
use crate::error::{Error, ErrorCode, Result};
use crate::http::wire::{AwardOrderWire, ProofingQueryWire};
use crate::portal::{CorrectionDecision, Delivery, ProofingCategory, read_orders_csv};

/// Writes ids into a caller's array `(ids, cap, out_count)`: `*out_count` always receives the
/// number of ids; when `cap` is too small (or `ids` NULL) nothing is written to `ids` and the
/// call returns `ECPA_E_FFI_BUFFER_TOO_SMALL`.
unsafe fn write_ids(list: &[i64], ids: *mut i64, cap: usize, out_count: *mut usize) -> Result<()> {
    // SAFETY: `out_count` checked non-NULL by the caller.
    unsafe { out_count.write(list.len()) };
    if list.is_empty() {
        return Ok(());
    }
    if ids.is_null() || cap < list.len() {
        return Err(Error::with(
            ErrorCode::FfiBufferTooSmall,
            format!("需要 {} 格，陣列為 {cap} 格", list.len()),
            format!("{} slots needed, the array holds {cap}", list.len()),
        ));
    }
    // SAFETY: `ids` is non-NULL with room for `cap >= list.len()` values per the contract.
    unsafe { std::ptr::copy_nonoverlapping(list.as_ptr(), ids, list.len()) };
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Consent (獎令電子化同意)

/// Writes the consent text currently shown (線上檢視訊息) in zh-TW (`ECPA_LANG_ZH_TW`) or English.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_consent_text(
    portal: *const EcpaPortal,
    lang: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let lang = self::lang(lang)?;
        // SAFETY: a live handle per the contract.
        let t = unsafe { get(portal, "portal") }?.portal().consent_text()?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.write(lang.pick(&t.text_zh, &t.text_en)) }
    })
}

/// Writes the version of the current consent text (ASCII, e.g. `2019-07-01`): pass it to
/// `ecpa_consent_give` to agree to exactly the text shown.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_consent_version(
    portal: *const EcpaPortal,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract.
        let t = unsafe { get(portal, "portal") }?.portal().consent_text()?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.write(&t.version) }
    })
}

/// Writes the caller's consent as JSON, the HTTP API's `ConsentRecord` or `null` when not
/// given: `{"text_version", "agreed_at" (ROC and ISO), "login_method"}`. Writes whether
/// consent was given to `out_given` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_consent_status_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    out_given: *mut bool,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: live handles per the contract.
        let (p, s) = unsafe { ps(portal, session) }?;
        let record = p.consent_status(s)?;
        // SAFETY: the buffer contract, checked by `StrOut`; the optional output per the contract.
        unsafe {
            o.json(&record)?;
            put(out_given, record.is_some());
        }
        Ok(())
    })
}

/// Agrees to the consent text of `version` (from `ecpa_consent_version`). Final: agreeing again
/// changes nothing, and it can never be withdrawn. An outdated version gives
/// `ECPA_E_CONSENT_TEXT_OUTDATED`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_consent_give(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    version: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let ((p, s), v) = unsafe { (ps(portal, session)?, text(version, "version")?) };
        p.give_consent(s, v)?;
        Ok(())
    })
}

/// Asks to withdraw consent: always refused (`ECPA_E_CONSENT_FINAL`, or
/// `ECPA_E_CONSENT_NOT_GIVEN` when there is none), because consent is final.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_consent_withdraw(portal: *const EcpaPortal, session: *const EcpaSession) -> u32 {
    call(|| {
        // SAFETY: live handles per the contract.
        let (p, s) = unsafe { ps(portal, session) }?;
        p.withdraw_consent(s)
    })
}

// ---------------------------------------------------------------------------------------------
// Award orders (獎懲令)

/// What a bulk issuance did, as C receives it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EcpaBulkCounts {
    /// Orders issued.
    pub issued: usize,
    /// Of which delivered electronically (one notice mail each).
    pub electronic: usize,
    /// Of which on paper (above the e-delivery ceiling, a punishment, or no consent).
    pub paper: usize,
}

/// A personnel officer issues one award order to an employee of their agency. `order_json` is
/// the HTTP API's `AwardOrderWire`: `{"national_id": full ID, "approving_agency",
/// "approved_on": ROC or ISO date, "document_number": e.g. "北市勞人字第1136000456號",
/// "reason", "legal_basis", "kind": "commendation" | "merit" | "major_merit" | "reprimand" |
/// "demerit" | "major_demerit", "count": 1–9, "special": bool (optional), "rating_year":
/// ROC year, e.g. 114}`. Writes the new order's number to `out_order_id` and whether it is delivered
/// electronically (else on paper) to `out_electronic` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_order_issue(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    order_json: *const c_char,
    out_order_id: *mut i64,
    out_electronic: *mut bool,
) -> u32 {
    call(|| {
        out(out_order_id, "out_order_id")?;
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let ((p, s), j) = unsafe { (ps(portal, session)?, text(order_json, "order_json")?) };
        let wire: AwardOrderWire = serde_json::from_str(j).map_err(|e| {
            Error::with(
                ErrorCode::RequestInvalid,
                format!("order_json 內容錯誤：{e}"),
                format!("order_json is not an award order: {e}"),
            )
        })?;
        let order = p.issue_award_order(s, &wire.to_order()?)?;
        // SAFETY: checked non-NULL above; the second output is optional.
        unsafe {
            put(out_order_id, order.summary.id);
            put(out_electronic, order.summary.delivery == Delivery::Electronic);
        }
        Ok(())
    })
}

/// A personnel officer issues many orders from a CSV file (`csv`, `len` bytes of UTF-8 with a
/// header row; columns in any order): `national_id, approving_agency, approved_on` (ROC date),
/// `document_number, reason, legal_basis, kind` (嘉獎 … 記大過 or the stable names), `count`,
/// and optionally `special` (`Y`/`是` for 專案) and `rating_year` (ROC; default the approval
/// year). All of them or none: a bad line fails the whole file, naming the lines. Writes the
/// counts to `out_counts`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_orders_issue_csv(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    csv: *const u8,
    len: usize,
    out_counts: *mut EcpaBulkCounts,
) -> u32 {
    call(|| {
        out(out_counts, "out_counts")?;
        // SAFETY: live handles and `len` readable bytes per the contract.
        let ((p, s), csv) = unsafe { (ps(portal, session)?, super::bytes(csv, len, "csv")?) };
        let orders = read_orders_csv(csv)?;
        let r = p.issue_award_orders(s, &orders)?;
        let counts = EcpaBulkCounts {
            issued: r.issued,
            electronic: r.electronic,
            paper: r.paper,
        };
        // SAFETY: checked non-NULL above.
        unsafe { put(out_counts, counts) };
        Ok(())
    })
}

/// Writes the caller's award orders not yet viewed (未檢視獎令) as JSON, the HTTP API's list of
/// `AwardOrderSummary`: `[{"id", "document_number", "approving_agency", "approved_on", "kind",
/// "count", "special", "rating_year", "delivery", "viewed_at": null}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_orders_unviewed_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.unviewed_award_orders(s)) }
}

/// Writes the numbers of the caller's unviewed orders to the caller's array `ids` of `cap`
/// slots, oldest first, and their count to `out_count`. When `ids` is NULL or `cap` too small,
/// only `*out_count` is written and the call returns `ECPA_E_FFI_BUFFER_TOO_SMALL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_orders_unviewed_ids(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    ids: *mut i64,
    cap: usize,
    out_count: *mut usize,
) -> u32 {
    call(|| {
        out(out_count, "out_count")?;
        // SAFETY: live handles per the contract.
        let (p, s) = unsafe { ps(portal, session) }?;
        let list: Vec<i64> = p.unviewed_award_orders(s)?.iter().map(|o| o.id).collect();
        // SAFETY: the array contract of this function.
        unsafe { write_ids(&list, ids, cap, out_count) }
    })
}

/// Opens one of the caller's orders and writes it as JSON, the HTTP API's `AwardOrder` (the
/// summary fields plus `"person_name", "national_id" (masked), "unit", "title", "reason",
/// "legal_basis", "issued_at"`). The first view signs for it (簽收); viewing again changes
/// nothing, so the call can be repeated to size the buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_order_view_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    order_id: i64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        json_call(portal, session, buf, len, out_len, |p, s| {
            p.view_award_order(s, order_id)
        })
    }
}

/// Writes the caller's rewards and punishments year by year (查詢個人歷年獎懲資料) as JSON, the
/// HTTP API's list of `YearlyAwards`: `[{"rating_year", "orders": [...], "net_reward",
/// "net_punishment", ...}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_history_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.award_history(s)) }
}

/// A personnel officer's list of electronically delivered orders not yet signed for, page
/// `page` (from 1) of `per_page` rows (1 to 100; 0 for 100), as JSON, the HTTP API's page of
/// `UnsignedOrder`: `{"items": [{"order": {...summary}, "national_id" (masked), "name",
/// "unit", "issued_at"}], "page", "per_page", "total"}`. Each person on the page is a read in
/// their audit trail.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_award_orders_unsigned_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    page: u32,
    per_page: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    let per_page = if per_page == 0 {
        crate::portal::MAX_PER_PAGE
    } else {
        per_page
    };
    // SAFETY: forwarded contract.
    unsafe {
        json_call(portal, session, buf, len, out_len, |p, s| {
            p.unsigned_award_orders(s, crate::portal::PageRequest::new(page, per_page)?)
        })
    }
}

/// Writes the agencies the officer queries and processes (the query screen's 機關代號 list)
/// as JSON: `[{"code", "name", "parent_code"}]`, their own first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_officer_agencies_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.officer_agencies(s)) }
}

// ---------------------------------------------------------------------------------------------
// Proofing (個人資料校對)

/// Writes the caller's own corrections as JSON, newest first, the HTTP API's
/// `ProofingCorrection` list: each with its `status` (`pending`, `approved`, `rejected`) and the
/// officer's `reject_reason`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_my_corrections_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.my_corrections(s)) }
}

/// Writes the caller's personal record as JSON, the HTTP API's `PersonalRecord`: `{"categories":
/// [{"category", "label_zh", "label_en", "fields": [{"key", "label_zh", "value", "staged",
/// ...}]}]}` in the nine proofing categories.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_personal_record_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.personal_record(s)) }
}

/// Stages a correction of one field (修改前 / 修改後): `category` is the category's stable name
/// (`basic`, `current_post`, `education`, `examination`, `training`, `career`,
/// `performance`, `rewards_punishments`, `others`), `field` the field's key (e.g. `email`),
/// `new_value` the corrected value (UTF-8).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_correction_stage(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    category: *const c_char,
    field: *const c_char,
    new_value: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let ((p, s), c, f, v) = unsafe {
            (
                ps(portal, session)?,
                text(category, "category")?,
                text(field, "field")?,
                text(new_value, "new_value")?,
            )
        };
        p.stage_correction(s, ProofingCategory::parse(c)?, f, v)?;
        Ok(())
    })
}

/// Drops a staged correction of `field` in `category`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_correction_discard(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    category: *const c_char,
    field: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let ((p, s), c, f) = unsafe { (ps(portal, session)?, text(category, "category")?, text(field, "field")?) };
        p.discard_correction(s, ProofingCategory::parse(c)?, f)
    })
}

/// 校對完成: submits the staged corrections; the officer's to-do appears at once. Writes the
/// submission's number to `out_submission_id` and the corrections submitted to
/// `out_corrections` (may be NULL; 0 means the record was confirmed as it is).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_proofing_complete(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    out_submission_id: *mut i64,
    out_corrections: *mut u32,
) -> u32 {
    call(|| {
        out(out_submission_id, "out_submission_id")?;
        // SAFETY: live handles per the contract.
        let (p, s) = unsafe { ps(portal, session) }?;
        let sub = p.complete_proofing(s)?;
        // SAFETY: checked non-NULL above; the second output is optional.
        unsafe {
            put(out_submission_id, sub.id);
            put(out_corrections, sub.corrections);
        }
        Ok(())
    })
}

/// The officer's query (人事人員校對查詢): `query_json` is the HTTP API's `ProofingQueryWire`,
/// every field optional: `{"agency": code, "unit": name, "from": date, "to": date, "proofed":
/// bool, "processed": bool, "page": 1, "per_page": 100}` (dates ROC `101/01/01` or ISO); `{}`
/// for the first page of everything. Writes the page as JSON, the HTTP API's page of
/// `ProofingQueryRow`: `{"items": [{"national_id" (masked), "name", "agency_code", "unit",
/// "proofed_on", ...}], "page", "per_page", "total"}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_proofing_query_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    query_json: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let ((p, s), q) = unsafe { (ps(portal, session)?, text(query_json, "query_json")?) };
        let wire: ProofingQueryWire = serde_json::from_str(q).map_err(|e| {
            Error::with(
                ErrorCode::RequestInvalid,
                format!("query_json 內容錯誤：{e}"),
                format!("query_json is not a proofing query: {e}"),
            )
        })?;
        let rows = p.proofing_query(s, &wire.to_query()?)?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&rows) }
    })
}

/// Writes the officer's open to-do items as JSON, the HTTP API's list of `TodoItem`:
/// `[{"submission_id", "national_id" (masked), "name", "unit", "corrections", "completed_at"}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_officer_todos_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.officer_todos(s)) }
}

/// Writes the corrections of one submission as JSON (for an officer of its agency), the HTTP
/// API's list of `ProofingCorrection`: `[{"id", "category", "field", "label_zh", "before",
/// "after", "status", ...}]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_submission_corrections_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    submission_id: i64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        json_call(portal, session, buf, len, out_len, |p, s| {
            p.submission_corrections(s, submission_id)
        })
    }
}

/// Writes the numbers of a submission's corrections to the caller's array, as
/// `ecpa_award_orders_unviewed_ids` does.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_submission_correction_ids(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    submission_id: i64,
    ids: *mut i64,
    cap: usize,
    out_count: *mut usize,
) -> u32 {
    call(|| {
        out(out_count, "out_count")?;
        // SAFETY: live handles per the contract.
        let (p, s) = unsafe { ps(portal, session) }?;
        let list: Vec<i64> = p
            .submission_corrections(s, submission_id)?
            .iter()
            .map(|c| c.id)
            .collect();
        // SAFETY: the array contract of this function.
        unsafe { write_ids(&list, ids, cap, out_count) }
    })
}

/// The officer processes one correction (人事人員處理): `reject_reason` NULL approves it (and
/// applies the new value to the record); a reason rejects it with that reason shown to the
/// person (an empty reason gives `ECPA_E_REJECT_REASON_REQUIRED`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_correction_process(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    correction_id: i64,
    reject_reason: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and an optional NUL-terminated string per the contract.
        let ((p, s), reason) = unsafe { (ps(portal, session)?, opt_text(reject_reason, "reject_reason")?) };
        let decision = match reason {
            None => CorrectionDecision::Approve,
            Some(r) => CorrectionDecision::Reject { reason: r.to_owned() },
        };
        p.process_correction(s, correction_id, &decision)?;
        Ok(())
    })
}
