//! The OpenAPI 3.1 document of `/api/v1`, generated from the endpoint table
//! ([`ENDPOINTS`](super::server::ENDPOINTS)) and the request bodies of [`wire`](super::wire).
//!
//! The document is served at `/api/v1/openapi.json` and committed as `docs/openapi.json`; a
//! test fails when the two differ, so a change to the API is always a visible change to the
//! committed file (regenerate with `ECPA_BLESS=1 cargo test --all-features --test http_openapi`).

use serde_json::{Map, Value, json};

use super::server::{Access, ENDPOINTS};
use crate::error::ErrorCode;

fn s(t: &str) -> Value {
    json!({ "type": t })
}

fn str_desc(d: &str) -> Value {
    json!({ "type": "string", "description": d })
}

fn obj(required: &[&str], props: &[(&str, Value)]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_owned(), v.clone());
    }
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": p })
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(v: Value) -> Value {
    json!({ "oneOf": [v, { "type": "null" }] })
}

/// The request-body schemas, one per wire type.
fn request_schemas() -> Map<String, Value> {
    let date = str_desc("ISO 2019-04-03, or ROC 108/04/03 or 1080403");
    let mut m = Map::new();
    m.insert(
        "CardWire".into(),
        obj(
            &["card_number", "name", "national_id", "birth_date", "sex", "issue_date"],
            &[
                ("card_number", str_desc("卡號, 12 digits")),
                ("name", str_desc("姓名")),
                ("name_big5", str_desc("姓名, the card's Big5 bytes in hex (optional)")),
                ("national_id", str_desc("身分證號或居留證號, in full")),
                ("birth_date", date.clone()),
                ("sex", json!({ "enum": ["male", "female"] })),
                ("issue_date", date.clone()),
            ],
        ),
    );
    m.insert(
        "AddressWire".into(),
        obj(
            &["county", "township", "village", "neighbourhood"],
            &[
                ("county", str_desc("縣市 code, 5 digits")),
                ("township", str_desc("鄉鎮市區 code, 8 digits")),
                ("village", str_desc("村里 code, 11 digits")),
                (
                    "neighbourhood",
                    json!({ "type": "integer", "minimum": 1, "maximum": 999 }),
                ),
            ],
        ),
    );
    m.insert(
        "RegistrationWire".into(),
        obj(
            &[
                "card",
                "household_number",
                "address",
                "password",
                "confirmation",
                "phone",
                "mobile",
                "email",
            ],
            &[
                ("card", r("CardWire")),
                ("household_number", str_desc("戶號: a letter and 7 digits")),
                ("address", r("AddressWire")),
                ("password", str_desc("6 to 12 characters, no space < > ' \"")),
                ("confirmation", s("string")),
                ("phone", s("string")),
                ("mobile", s("string")),
                ("email", s("string")),
                ("spare_email", nullable(s("string"))),
            ],
        ),
    );
    m.insert("CardOnly".into(), obj(&["card"], &[("card", r("CardWire"))]));
    m.insert(
        "CardToken".into(),
        obj(&["card", "token"], &[("card", r("CardWire")), ("token", s("string"))]),
    );
    m.insert(
        "ResetRequestWire".into(),
        obj(
            &["card", "delivery"],
            &[
                ("card", r("CardWire")),
                (
                    "delivery",
                    json!({ "oneOf": [
                        obj(&["to"], &[("to", json!({ "const": "registered_address" }))]),
                        obj(&["to", "email", "household_number", "address"], &[
                            ("to", json!({ "const": "new_address" })),
                            ("email", s("string")),
                            ("household_number", s("string")),
                            ("address", r("AddressWire")),
                        ]),
                    ] }),
                ),
            ],
        ),
    );
    m.insert(
        "ResetCompleteWire".into(),
        obj(
            &["card", "token", "new_password"],
            &[
                ("card", r("CardWire")),
                ("token", s("string")),
                ("new_password", s("string")),
            ],
        ),
    );
    m.insert(
        "NhiLoginWire".into(),
        obj(
            &["card", "password"],
            &[
                ("card", r("CardWire")),
                ("password", s("string")),
                ("possession", r("CardPossession")),
            ],
        ),
    );
    m.insert(
        "PersonWire".into(),
        obj(&["national_id"], &[("national_id", s("string"))]),
    );
    m.insert(
        "CardPossession".into(),
        obj(
            &["random", "h_sign"],
            &[("random", s("string")), ("h_sign", s("string"))],
        ),
    );
    m.insert(
        "AccountWire".into(),
        obj(
            &["account", "password"],
            &[("account", s("string")), ("password", s("string"))],
        ),
    );
    m.insert(
        "CertificateLoginWire".into(),
        obj(
            &["challenge_id", "certificate", "signature_kind", "signature"],
            &[
                ("challenge_id", s("string")),
                ("certificate", str_desc("DER (or PEM text), Base64")),
                ("signature_kind", json!({ "enum": ["raw_pkcs1", "cms"] })),
                ("signature", str_desc("Base64")),
                (
                    "identify",
                    nullable(str_desc("first login: eCPA account name or national ID")),
                ),
            ],
        ),
    );
    m.insert("AppCode".into(), obj(&["code"], &[("code", s("string"))]));
    m.insert("ConsentWire".into(), obj(&["version"], &[("version", s("string"))]));
    let kinds = json!({ "enum": ["commendation", "merit", "major_merit", "reprimand", "demerit", "major_demerit"] });
    m.insert(
        "AwardOrderWire".into(),
        obj(
            &[
                "national_id",
                "approving_agency",
                "approved_on",
                "document_number",
                "reason",
                "legal_basis",
                "kind",
                "count",
                "rating_year",
            ],
            &[
                ("national_id", s("string")),
                ("approving_agency", s("string")),
                ("approved_on", date.clone()),
                ("document_number", str_desc("e.g. 府人考字第1080097494號")),
                ("reason", s("string")),
                ("legal_basis", s("string")),
                ("kind", kinds),
                ("count", json!({ "type": "integer", "minimum": 0, "maximum": 255 })),
                ("special", s("boolean")),
                (
                    "rating_year",
                    json!({ "type": "integer", "description": "考績年度, ROC year (113 = 2024)" }),
                ),
            ],
        ),
    );
    m.insert(
        "BulkWire".into(),
        obj(
            &["orders"],
            &[("orders", json!({ "type": "array", "items": r("AwardOrderWire") }))],
        ),
    );
    let categories = json!({ "enum": ["basic", "current_post", "education", "examination", "training", "career", "performance", "rewards_punishments", "others"] });
    m.insert(
        "StageWire".into(),
        obj(
            &["category", "field", "new_value"],
            &[
                ("category", categories),
                ("field", s("string")),
                ("new_value", s("string")),
            ],
        ),
    );
    m.insert(
        "ProofingQueryWire".into(),
        obj(
            &[],
            &[
                ("agency", nullable(s("string"))),
                ("unit", nullable(s("string"))),
                ("from", nullable(date.clone())),
                ("to", nullable(date.clone())),
                ("proofed", nullable(s("boolean"))),
                ("processed", nullable(s("boolean"))),
            ],
        ),
    );
    m.insert(
        "DecisionWire".into(),
        json!({ "oneOf": [
            obj(&["decision"], &[("decision", json!({ "const": "approve" }))]),
            obj(&["decision", "reason"], &[("decision", json!({ "const": "reject" })), ("reason", s("string"))]),
        ] }),
    );
    m.insert(
        "AuditQueryWire".into(),
        obj(
            &[],
            &[
                ("from", nullable(date.clone())),
                ("to", nullable(date)),
                ("action", nullable(s("string"))),
                ("limit", nullable(s("integer"))),
            ],
        ),
    );
    m
}

fn error_schema() -> Value {
    let codes: Vec<Value> = ErrorCode::ALL.iter().map(|c| json!(c.number())).collect();
    json!({
        "type": "object",
        "required": ["code", "name", "message_zh", "message_en"],
        "properties": {
            "code": { "type": "integer", "enum": codes },
            "name": { "type": "string" },
            "message_zh": { "type": "string" },
            "message_en": { "type": "string" },
            "detail_zh": { "type": "string" },
            "detail_en": { "type": "string" },
            "tries_left": { "type": "integer" },
            "until": { "type": "string", "format": "date-time" },
            "seconds_left": { "type": "integer" },
            "from": { "type": "string", "format": "date-time" },
            "to": { "type": "string", "format": "date-time" },
            "reason": { "type": "string", "description": "why a maintenance window was announced" },
            "lines": {
                "type": "array",
                "description": "every bad line of a CSV file (csv_invalid)",
                "items": {
                    "type": "object",
                    "required": ["line", "code", "message_zh", "message_en"],
                    "properties": {
                        "line": { "type": "integer" },
                        "code": { "type": "integer" },
                        "message_zh": { "type": "string" },
                        "message_en": { "type": "string" }
                    }
                }
            },
            "required": { "enum": ["password", "nhi_card", "certificate"] },
            "actual": { "enum": ["password", "nhi_card", "certificate"] },
            "source": { "type": "string" },
            "retry_after": { "type": "integer" }
        }
    })
}

fn response_schema(name: &str) -> Value {
    let inner = |prefix: &str| {
        name.replace(' ', "")
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('>'))
            .map(str::to_owned)
    };
    let (base, array, or_null) = match (inner("Vec<"), inner("Option<")) {
        (Some(b), _) => (b, true, false),
        (None, Some(b)) => (b, false, true),
        (None, None) => (name.to_owned(), false, false),
    };
    let one = if base == "Empty" {
        json!({ "type": "object" })
    } else {
        r(&base)
    };
    if array {
        json!({ "type": "array", "items": one })
    } else if or_null {
        nullable(one)
    } else {
        one
    }
}

/// The response types, named after the engine's types; their fields are the engine types'
/// serde form (IDs masked, instants RFC 3339 at +08:00, dates ISO).
const RESPONSE_TYPES: &[&str] = &[
    "AccessRevoked",
    "Announcement",
    "Application",
    "AuditEntry",
    "AwardOrder",
    "AwardOrderSummary",
    "BulkIssueReport",
    "CertificateChallenge",
    "ConsentRecord",
    "ConsentText",
    "EmployeeSummary",
    "MaintenanceWindow",
    "PersonalRecord",
    "ProofingCorrection",
    "ProofingQueryRow",
    "ProofingSubmission",
    "RegistrationReceipt",
    "SessionInfo",
    "StagedCorrection",
    "TodoItem",
    "UnsignedOrder",
    "YearlyAwards",
];

/// The document as a JSON value.
pub fn document() -> Value {
    let mut schemas = request_schemas();
    for t in RESPONSE_TYPES {
        schemas.insert(
            (*t).to_owned(),
            json!({ "type": "object", "description": format!("ecpa::portal::{t} (serde form)") }),
        );
    }
    schemas.insert(
        "SessionWire".into(),
        json!({
            "type": "object",
            "required": ["token", "csrf_token", "info"],
            "properties": {
                "token": { "type": "string", "description": "bearer token; also the ecpa_session cookie" },
                "csrf_token": { "type": "string", "description": "send in X-CSRF-Token with cookie sessions" },
                "info": r("SessionInfo")
            }
        }),
    );
    schemas.insert("Error".into(), error_schema());

    let mut paths = Map::new();
    for e in ENDPOINTS {
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
                let schema = if name == "id" { s("integer") } else { s("string") };
                json!({ "name": name, "in": "path", "required": true, "schema": schema })
            })
            .collect();
        if !params.is_empty() {
            op.insert("parameters".into(), json!(params));
        }
        if let Some(req) = e.request {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": r(req) } } }),
            );
        }
        if e.access == Access::Public {
            op.insert("security".into(), json!([]));
        }
        let ok = if e.response == "()" {
            json!({ "204": { "description": "done" } })
        } else {
            json!({ "200": {
                "description": "ok",
                "content": { "application/json": { "schema": response_schema(e.response) } }
            } })
        };
        let mut responses = ok.as_object().cloned().unwrap_or_default();
        responses.insert(
            "default".into(),
            json!({
                "description": "a typed error; the status follows the code (see ecpa::http::status_of)",
                "content": { "application/json": { "schema": r("Error") } }
            }),
        );
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths
            .entry(e.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(e.method.to_lowercase(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ecpa: 人事服務網 eCPA",
            "version": "v1",
            "description": "The eCPA award-order flow (NHI card registration, login, consent, award orders, proofing) over HTTP. Sessions: Authorization: Bearer, or the ecpa_session cookie with X-CSRF-Token on changes."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "cookie": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
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
