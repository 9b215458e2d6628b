//! The HiPKI local sign server's endpoints, in its reply shapes, so pages written for it work
//! unchanged (the fields and codes are in `../shared/AGENT-PROTOCOLS.md`, section 2).
//!
//! - `GET /`: the page admin scripts parse `version:<n.n.n.n>` out of.
//! - `GET|POST /pkcs11info[?withcert=true]`: the module, and each token with its serial number
//!   and, with `withcert=true`, its certificates (label, usage, Base64 DER, serial, subject and
//!   issuer DN, subject CN, and the ID's last four digits).
//!
//! A failure answers HTTP 200 with the error in `ret_code`, as the vendor server does. The
//! codes used: `0x76100001` the module cannot be loaded, `0x76000006` no card (no token
//! present), `0x76100003` no reader, `0x76000999` cancelled.

use std::path::PathBuf;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64ct::{Base64, Encoding};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HIPKI_COMPATIBLE_VERSION;
use crate::card::pkcs11::{Pkcs11Module, TokenCertificate, resolve_module_path};
use crate::error::{Error, ErrorCode, Result};
use crate::pki::Purpose;

/// `ret_code` of a module that cannot be loaded.
pub const RET_MODULE_MISSING: u32 = 0x7610_0001;
/// `ret_code` of no card in the reader (no token present).
pub const RET_NO_CARD: u32 = 0x7600_0006;

pub(super) fn routes(module: Option<PathBuf>) -> Router {
    Router::new()
        .route("/", get(version_page))
        .route("/pkcs11info", get(pkcs11info).post(pkcs11info))
        .with_state(module)
}

async fn version_page() -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\"><title>ecpa agent</title></head>\
         <body><p>version:{HIPKI_COMPATIBLE_VERSION}</p><p>ecpa agent {}</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    no_store(Html(body).into_response())
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Debug, Default, Deserialize)]
struct Pkcs11Query {
    #[serde(default)]
    withcert: Option<String>,
}

async fn pkcs11info(State(module): State<Option<PathBuf>>, Query(q): Query<Pkcs11Query>) -> Response {
    let with_certs = q.withcert.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let answer = tokio::task::spawn_blocking(move || info(module, with_certs))
        .await
        .unwrap_or_else(|e| Err(Error::internal(format!("the PKCS#11 worker failed: {e}"))));
    let body = match answer {
        Ok(v) => v,
        Err(e) => json!({
            "func": "pkcs11info",
            "ret_code": ret_code(&e),
            "last_error": e.code().number(),
            "serverVersion": HIPKI_COMPATIBLE_VERSION,
        }),
    };
    no_store(axum::Json(body).into_response())
}

/// The vendor's `ret_code` for an error of ours.
pub(super) fn ret_code(e: &Error) -> u32 {
    match e.code() {
        ErrorCode::Pkcs11ModuleNotFound | ErrorCode::Pkcs11ModuleLoadFailed => RET_MODULE_MISSING,
        ErrorCode::Pkcs11TokenNotPresent | ErrorCode::Pkcs11TokenRemoved => RET_NO_CARD,
        _ => 0x7600_000D,
    }
}

fn info(module: Option<PathBuf>, with_certs: bool) -> Result<Value> {
    let path = resolve_module_path(module.as_deref())?;
    let m = Pkcs11Module::load(&path)?;
    let lib = m.info()?;
    let mut slots = Vec::new();
    for token in m.tokens()? {
        let certs = if with_certs {
            m.certificates(&token)?.iter().map(cert_json).collect()
        } else {
            Vec::new()
        };
        slots.push(json!({
            "slotDescription": format!("{} {}", token.manufacturer, token.model).trim().to_owned(),
            "token": {
                "label": token.label,
                "serialNumber": token.serial,
                "certs": certs,
            },
        }));
    }
    Ok(json!({
        "func": "pkcs11info",
        "ret_code": 0,
        "last_error": 0,
        "serverVersion": HIPKI_COMPATIBLE_VERSION,
        "libraryDescription": lib.description,
        "libraryVersion": lib.version,
        "slots": slots,
    }))
}

fn cert_json(c: &TokenCertificate) -> Value {
    let cert = &c.certificate;
    let usage = match cert.purpose() {
        Purpose::Signing => "digitalSignature",
        Purpose::Encryption => "keyEncipherment|dataEncipherment",
        Purpose::Ca => "keyCertSign|cRLSign",
        Purpose::Unspecified => "",
    };
    json!({
        "label": c.label,
        "usage": usage,
        "certb64": Base64::encode_string(cert.der()),
        "sn": cert.serial_hex(),
        "subjectDN": cert.subject(),
        "issuerDN": cert.issuer(),
        "subjectCN": cert.common_name(),
        "subjectID": cert.id_last_four(),
    })
}
