//! # ecpa: the eCPA award-order flow as one typed API
//!
//! Taiwan's civil servants log in to the personnel portal (人事服務網 eCPA) with an NHI card or
//! a citizen digital certificate, consent once to electronic award orders (獎勵令電子化), read
//! and sign for them, and proof their own personnel record so the orders reach the right
//! e-mail address. This crate is that whole flow, without Internet Explorer, ActiveX or vendor
//! components: embedded in your process on SQLite ([`portal::LocalPortal`]), behind one trait
//! ([`portal::Portal`]) that a remote client implements too.
//!
//! ## Quick start
//!
//! ```
//! use ecpa::card::SoftNhiCard;
//! use ecpa::portal::{LocalPortal, Portal, RegistrationForm, FileMailer};
//! use ecpa::types::*;
//!
//! # fn main() -> ecpa::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! // An embedded portal on a SQLite file, and the directory of one agency.
//! let portal = LocalPortal::open(dir.path().join("ecpa.db"))?;
//! portal.import_directory_csv(
//!     "agency_code,agency_name,unit,national_id,name,title,email\n\
//!      379130000C,臺北市政府勞動局,勞動檢查處,A123456789,王小明,科員,wang@mail.taipei.gov.tw\n"
//!         .as_bytes(),
//! )?;
//!
//! // The NHI card as read from the reader (here a software card).
//! let card = SoftNhiCard::new(&NhiCardData {
//!     card_number: CardNumber::parse("000011112222")?,
//!     name: PersonName::new("王小明")?,
//!     national_id: NationalId::parse("A123456789")?,
//!     birth_date: RocDate::parse("075/03/15")?,
//!     sex: Sex::Male,
//!     issue_date: RocDate::parse("110/06/01")?,
//! })
//! .read()?;
//!
//! // Register the card for online services, once the terms are read and accepted
//! // (「我已閱讀完畢，並瞭解相關規定」); the confirmation link arrives by mail.
//! let terms = portal.registration_terms()?;
//! portal.start_nhi_registration(&RegistrationForm {
//!     card: card.clone(),
//!     household_number: HouseholdNumber::parse("F1234567")?,
//!     address: HouseholdAddress::new("63000", "63000010", "63000010001", 12)?,
//!     password: Password::new("Ecpa#2026ok")?,
//!     confirmation: Password::new("Ecpa#2026ok")?,
//!     phone: Some("02-2720-8889".into()),
//!     mobile: Some("0912-345-678".into()),
//!     email: Email::parse("wang@mail.taipei.gov.tw")?,
//!     spare_email: None,
//!     terms_version: terms.version,
//! })?;
//! let mailer = FileMailer::new(dir.path().join("mail"))?;
//! portal.deliver_outbox(&mailer, 100)?;
//! let mail = &mailer.messages()?[0]; // the person opens the mail and its link
//! portal.confirm_nhi_registration(&card, mail.link_token().unwrap_or_default())?;
//!
//! // Log in, consent once, and look at the award orders waiting to be signed for.
//! let session = portal.login_nhi_card(&card, &Password::new("Ecpa#2026ok")?)?;
//! let text = portal.consent_text()?;
//! portal.give_consent(&session.token, &text.version)?;
//! assert!(portal.unviewed_award_orders(&session.token)?.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! `ecpa demo` runs the whole flow (registration, the four login errors, the catalogue,
//! consent, bulk issuance, signing, yearly history, proofing and the officer's processing).
//!
//! ## Map
//! - [`types`]: national IDs, ROC dates, codes, e-mail, passwords, PINs: validated on construction.
//! - [`error`]: one error type with stable numeric codes and zh-TW / English messages.
//! - [`store`]: the storage traits and the SQLite and PostgreSQL backends, with versioned migrations.
//! - [`portal`]: the engine: its rules, with no SQL.
//! - `db` (internal): every statement the engine runs, one module per area (employees,
//!   sessions, orders, records, …), with rows declared once with their columns.
//! - [`card`]: smart cards: PC/SC readers and the NHI card, the citizen card over PKCS#11, and the
//!   software NHI card of the demo.
//! - [`mail`]: the outgoing message and its mailers (a maildir, SMTP).
//! - [`doctor`]: the environment check behind `ecpa doctor`.
//! - `http` and `config` (feature `http`): `ecpa serve` and `RemotePortal`.
//! - `agent` (features `card` and `http`): `ecpa agent`, the local card service for browsers.
//! - `ffi` (feature `ffi`): the C ABI behind `include/ecpa.h`.
//! - The Python module `ecpa._ecpa` (feature `python`, built by maturin from `bindings/python`).
//! - `pki::testpki` and `pki::crlgen` (feature `testing`, which `cli`, `ffi` and `python` turn on): a
//!   test PKI and a CRL generator for tests and `ecpa demo`; the library alone carries neither.
#![deny(unsafe_code)]

#[cfg(all(feature = "card", feature = "http"))]
pub mod agent;
pub mod card;
#[cfg(feature = "http")]
pub mod config;
pub(crate) mod db;
pub mod doctor;
pub mod error;
#[cfg(feature = "ffi")]
pub mod ffi;
#[cfg(feature = "http")]
pub mod http;
pub mod mail;
pub mod pki;
pub mod portal;
#[cfg(feature = "python")]
mod python;
pub mod store;
pub mod types;

pub use error::{Error, ErrorCode, Result};
