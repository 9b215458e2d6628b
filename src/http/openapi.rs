//! The OpenAPI 3.1 document of `/api/v1`, generated from the operations' declarations
//! ([`api`](super::api::visit)) and from the very serde types that cross the wire: `schemars` writes
//! each request and response schema from its type, with the constraints the server checks
//! (ID patterns, the three date forms, password length and characters, card and division codes,
//! enums) and the fields' own documentation as descriptions. A client generated from it by
//! any OpenAPI generator is typed end to end.
//!
//! Errors: every operation lists the statuses its declaration implies (a body can be refused
//! with 400, 413, 415 or 422; a session operation with 401 or 403; a rate-limited one with 429;
//! any with 500 or 503) and `default` for the rest; each status is a shared response whose
//! description names every error code the service answers with it ([`ErrorCode::http_status`]).
//!
//! The document is served at `/api/v1/openapi.json` and committed as `docs/openapi.json`; a
//! test fails when the two differ, so a change to the API is always a visible change to the
//! committed file (regenerate with `ECPA_BLESS=1 cargo test --all-features --test http_openapi`).

use std::collections::BTreeMap;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::api::{self, Access, Operation, Served, Visitor, is_none};
use super::wire::*;
use crate::error::ErrorCode;
use crate::portal::{AwardKind, ProofingCategory};
use crate::types::Sex;

/// The paths, as the declarations are visited.
struct Paths {
    generator: SchemaGenerator,
    paths: Map<String, Value>,
}

impl Visitor for Paths {
    fn served<O: Served>(&mut self) {
        self.add::<O>();
    }

    fn special<O: Operation>(&mut self) {
        self.add::<O>();
    }
}

impl Paths {
    fn add<O: Operation>(&mut self) {
        let e = O::ENDPOINT;
        let mut op = Map::new();
        op.insert("operationId".into(), json!(e.operation));
        op.insert("summary".into(), json!(e.summary_zh));
        let mut tags = vec![json!(match e.access {
            Access::Public => "public",
            Access::Session => "session",
            Access::Officer => "officer",
        })];
        if let Some(limit) = e.limit {
            tags.push(json!(format!("rate-limited:{limit}")));
        }
        op.insert("tags".into(), json!(tags));
        op.insert("x-idempotent".into(), json!(e.idempotent));
        let params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = match name {
                    "id" => json!({ "type": "integer", "format": "int64" }),
                    "category" => self.generator.subschema_for::<ProofingCategory>().to_value(),
                    _ => json!({ "type": "string" }),
                };
                json!({ "name": name, "in": "path", "required": true, "schema": schema })
            })
            .collect();
        let has_params = !params.is_empty();
        if has_params {
            op.insert("parameters".into(), json!(params));
        }
        let has_body = !is_none::<O::Request>();
        if has_body {
            let mut content = json!({ "schema": self.generator.subschema_for::<O::Request>().to_value() });
            if let Some(examples) = examples(e.operation) {
                content["examples"] = examples;
            }
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": content } }),
            );
        }
        if e.access == Access::Public {
            op.insert("security".into(), json!([]));
        }
        let mut responses = Map::new();
        if is_none::<O::Response>() {
            responses.insert("204".into(), json!({ "description": "done" }));
        } else {
            let schema = self.generator.subschema_for::<O::Response>().to_value();
            responses.insert(
                "200".into(),
                json!({ "description": "ok", "content": { "application/json": { "schema": schema } } }),
            );
        }
        let mut statuses = vec![500, 503];
        if has_body || has_params {
            statuses.push(400);
        }
        if has_body {
            statuses.extend([413, 415, 422]);
        }
        if e.access != Access::Public || e.limit == Some("login") {
            statuses.push(401);
        }
        if e.access != Access::Public {
            statuses.push(403);
        }
        if e.limit.is_some() {
            statuses.push(429);
        }
        statuses.sort_unstable();
        for status in statuses {
            responses.insert(status.to_string(), error_ref(status));
        }
        responses.insert(
            "default".into(),
            json!({
                "description": "any other typed error; its status follows the code (see the shared responses)",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }),
        );
        op.insert("responses".into(), Value::Object(responses));
        let entry = self
            .paths
            .entry(e.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(e.method.to_lowercase(), Value::Object(op));
        }
    }
}

fn error_ref(status: u16) -> Value {
    json!({ "$ref": format!("#/components/responses/E{status}") })
}

/// One shared response per status the service answers errors with, naming its codes.
fn error_responses() -> Map<String, Value> {
    let mut by_status: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for code in ErrorCode::ALL {
        by_status
            .entry(code.http_status())
            .or_default()
            .push(format!("{} {}", code.number(), code.name()));
    }
    // Statuses the service answers outside the table: the body limit and the rate limiter.
    for status in [413, 429] {
        by_status.entry(status).or_default();
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let reason = axum::http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error");
            let description = if codes.is_empty() {
                reason.to_owned()
            } else {
                format!("{reason}: {}", codes.join(", "))
            };
            (
                format!("E{status}"),
                json!({
                    "description": description,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }),
            )
        })
        .collect()
}

/// A card as the examples show it (a valid ID and card number, made up).
fn example_card() -> CardWire {
    CardWire {
        card_number: "000012345678".into(),
        name: "王小明".into(),
        name_big5: None,
        national_id: WireId("A123456789".into()),
        birth_date: "1985-03-02".into(),
        sex: Sex::Male,
        issue_date: "2015-06-01".into(),
    }
}

fn example(summary: &str, value: impl serde::Serialize) -> Value {
    json!({ "summary": summary, "value": value })
}

/// Request examples for the main calls, built from the wire types themselves so each one is
/// a body the server takes.
fn examples(operation: &str) -> Option<Value> {
    let address = AddressWire {
        county: "63000".into(),
        township: "63000010".into(),
        village: "63000010001".into(),
        neighbourhood: 5,
    };
    let order = AwardOrderWire {
        national_id: WireId("A123456789".into()),
        approving_agency: "臺北市政府".into(),
        approved_on: "108/04/03".into(),
        document_number: "府人考字第1080097494號".into(),
        reason: "辦理年度業務績效優良".into(),
        legal_basis: "公務人員考績法施行細則第13條".into(),
        kind: AwardKind::Commendation,
        count: 2,
        special: false,
        rating_year: 108,
    };
    let value = match operation {
        "start_nhi_registration" => example(
            "健保卡網路服務註冊",
            RegistrationWire {
                card: example_card(),
                household_number: "F1234567".into(),
                address,
                password: "abc123".into(),
                confirmation: "abc123".into(),
                phone: Some("02-23456789".into()),
                mobile: Some("0912345678".into()),
                email: "wang@mail.example.gov.tw".into(),
                spare_email: None,
                terms_version: crate::portal::registration::TERMS_VERSION.into(),
            },
        ),
        "login_nhi_card" => example(
            "健保卡登入",
            NhiLoginWire {
                card: example_card(),
                password: "abc123".into(),
                possession: None,
            },
        ),
        "complete_certificate_login" => example(
            "自然人憑證登入（首次登入，指明帳號）",
            CertificateLoginWire {
                challenge_id: "7f1c0e5a9b3d4c2e8a6f0b1d2c3e4f50".into(),
                certificate: "MIIF…（DER, Base64）".into(),
                signature_kind: SignatureKind::OriginBound,
                signature: "kq3v…（Base64）".into(),
                origin: Some("https://ecpa.example.gov.tw".into()),
                identify: Some("A123456789".into()),
            },
        ),
        "login_account" => example(
            "帳號密碼登入",
            AccountWire {
                account: "wang.xm".into(),
                password: "abc123".into(),
            },
        ),
        "give_consent" => example(
            "同意獎令電子化",
            ConsentWire {
                version: "2024-01-01".to_owned(),
            },
        ),
        "issue_award_order" => example("嘉獎二次", order),
        "stage_correction" => example(
            "更正現職資料的電子郵件",
            StageWire {
                category: ProofingCategory::CurrentPost,
                field: "email".into(),
                new_value: "wang.new@mail.example.gov.tw".into(),
            },
        ),
        "process_correction" => example(
            "退回，附理由",
            DecisionWire::Reject {
                reason: "請檢附學位證書影本".into(),
            },
        ),
        _ => return None,
    };
    Some(json!({ "main": value }))
}

/// The document.
pub fn document() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into());
    let mut paths = Paths {
        generator: settings.into_generator(),
        paths: Map::new(),
    };
    api::visit(&mut paths);
    let Paths { mut generator, paths } = paths;
    generator.subschema_for::<ErrorBody>();
    let mut schemas = generator.take_definitions(true);
    // The error body's `code` is one of the table's numbers.
    let codes: Vec<Value> = ErrorCode::ALL.iter().map(|c| json!(c.number())).collect();
    if let Some(code) = schemas.get_mut("Error").and_then(|e| e.pointer_mut("/properties/code")) {
        code["enum"] = Value::Array(codes);
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "ecpa: 人事服務網 eCPA",
            "version": "v1",
            "description": "The eCPA award-order flow (NHI card registration, login, consent, award orders, proofing) over HTTP. Sessions: Authorization: Bearer, or the ecpa_session cookie with X-CSRF-Token on changes. Every error is the Error body with a stable code and messages in zh-TW and English."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "cookie": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": error_responses(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "ecpa_session" }
            }
        }
    })
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
