//! The schema and its versioned migrations.
//!
//! Each migration runs once, in its own transaction, and is recorded in `schema_migrations`.
//! A database written by a newer ecpa (a version we do not know) is refused rather than
//! guessed at. Table definitions use two placeholders so one text serves both dialects:
//! `{id}` for an auto-numbered primary key and `{int}` for a 64-bit integer.
//!
//! Conventions: timestamps are Unix milliseconds (UTC) in `{int}` columns; calendar dates are
//! ISO `YYYY-MM-DD` text (they sort and compare as text); booleans are 0/1.

use super::{Dialect, Store, StoreExt, Value};
use crate::error::{Error, ErrorCode, Result};

/// One schema change.
#[derive(Debug)]
pub struct Migration {
    /// Its number: migrations run in this order, once each.
    pub version: i64,
    /// What it does, for the record.
    pub name: &'static str,
    /// Its statements, each ending in `;` at the end of a line.
    pub sql: &'static str,
}

/// Every migration, oldest first. Never edit a published one: add a new one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "the award-order flow",
        sql: V1,
    },
    Migration {
        version: 2,
        name: "citizen-certificate login",
        sql: V2,
    },
    Migration {
        version: 3,
        name: "challenge expiry index",
        sql: V3,
    },
    Migration {
        version: 4,
        name: "operator commands: maintenance reasons, announcements, operators in the audit trail",
        sql: V4,
    },
    Migration {
        version: 5,
        name: "current-post agency and unit read from the directory",
        sql: V5,
    },
    Migration {
        version: 6,
        name: "NHI-card registrations checked against the directory",
        sql: V6,
    },
    Migration {
        version: 7,
        name: "password guesses counted per card and per source network; card possession",
        sql: V7,
    },
    Migration {
        version: 8,
        name: "registration terms accepted, with their version",
        sql: V8,
    },
    Migration {
        version: 9,
        name: "the last login, shown as 登入時間（本次／上次）",
        sql: V9,
    },
    Migration {
        version: 10,
        name: "a reset link's new mobile number, and account-recovery links",
        sql: V10,
    },
    Migration {
        version: 11,
        name: "consent texts as versions with the kinds they cover",
        sql: V11,
    },
    Migration {
        version: 12,
        name: "agencies in a tree: each with its parent personnel office's agency",
        sql: V12,
    },
    Migration {
        version: 13,
        name: "the catalogue in eCPA's groups, and single sign-on assertions",
        sql: V13,
    },
];

/// An agency may have a parent (e.g. 臺北市政府人事處 above the city's bureaus): its personnel
/// office queries and processes the proofing of the agencies below it.
const V12: &str = r#"
ALTER TABLE agencies ADD COLUMN parent_code TEXT REFERENCES agencies(code);
CREATE INDEX agencies_parent ON agencies(parent_code);
"#;

/// Consent texts (獎令電子化同意書) become versions, each with the highest reward it covers
/// (`covers_rank`: 0 嘉獎, 1 記功, 2 記大功, which `MAX` compares; `covers` names it) and the day
/// it takes effect. The 2019 text (記功以下) is the one people agreed to until now; the 2024
/// text is not public, so a draft after it (記一大功以下) is recorded as one (`draft`), for the
/// operator to replace with the official text (`ecpa consent add-version`). A person's
/// agreements are kept one row per version agreed: the first stays as it was, and agreeing to
/// a newer text that covers more adds one.
const V11: &str = r#"
CREATE TABLE consent_versions (
    version TEXT PRIMARY KEY,
    effective_from TEXT NOT NULL,
    covers TEXT NOT NULL,
    covers_rank {int} NOT NULL,
    draft {int} NOT NULL,
    text_zh TEXT NOT NULL,
    text_en TEXT NOT NULL,
    source TEXT NOT NULL,
    added_at {int} NOT NULL
);
INSERT INTO consent_versions (version, effective_from, covers, covers_rank, draft, text_zh, text_en, source, added_at)
VALUES ('2019-07-01', '2019-07-01', 'merit', 1, 0, '為落實政府無紙化節能減碳政策、達成人事作業流程簡化及奠定公務電子履歷之基礎，本人同意記功以下獎勵令由服務機關核定後，經由系統以電子郵件方式主動通知本人登入「公務人員個人資料校對網站」進行查詢、列印獎勵令資料。', 'To carry out the government''s paperless, energy-saving policy, simplify personnel procedures and lay the foundation of an electronic civil-service record, I agree that award orders of merit (記功) and below, once approved by my serving agency, are announced to me by e-mail from the system, and that I log in to the personal data proofing site to look them up and print them.', 'built-in', 0);
INSERT INTO consent_versions (version, effective_from, covers, covers_rank, draft, text_zh, text_en, source, added_at)
VALUES ('2024-01-01-draft', '2024-01-01', 'major_merit', 2, 1, '為落實政府無紙化節能減碳政策、達成人事作業流程簡化及奠定公務電子履歷之基礎，本人同意記一大功以下獎勵令由服務機關核定後，經由系統以電子郵件方式主動通知本人登入「公務人員個人資料校對網站」進行查詢、列印獎勵令資料。', 'To carry out the government''s paperless, energy-saving policy, simplify personnel procedures and lay the foundation of an electronic civil-service record, I agree that award orders of one major merit (記一大功) and below, once approved by my serving agency, are announced to me by e-mail from the system, and that I log in to the personal data proofing site to look them up and print them.', 'built-in draft', 0);
CREATE TABLE consent_agreements (
    employee_id {int} NOT NULL REFERENCES employees(id),
    text_version TEXT NOT NULL REFERENCES consent_versions(version),
    agreed_at {int} NOT NULL,
    login_method TEXT NOT NULL,
    PRIMARY KEY (employee_id, text_version)
);
INSERT INTO consent_agreements (employee_id, text_version, agreed_at, login_method)
SELECT employee_id, text_version, agreed_at, login_method FROM consents;
DROP TABLE consents;
"#;

/// A password-reset link to a new address also carries the mobile number the form gave
/// (adopted with the address when the reset is done). 忘記帳號或密碼 for eCPA accounts mails
/// single-use links of its own, kept as hashes like the registration's.
const V10: &str = r#"
ALTER TABLE registration_tokens ADD COLUMN new_mobile TEXT;
CREATE TABLE account_links (
    token_hash TEXT PRIMARY KEY,
    employee_id {int} NOT NULL REFERENCES employees(id),
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    used_at {int}
);
CREATE INDEX account_links_employee ON account_links(employee_id);
"#;

/// The catalogue as eCPA has it (步驟五): applications in groups, A 人事資料填報及考核,
/// B 人事資料服務, D 其他人事總處業務 and the one eCPA shows without a letter, 非人事總處機關及系統
/// (here `X`), each application in its group's order. B5A 個人簡要自述 (at B5's level) and B6
/// PICS人事資訊系統服務網 join B5 in B; WebHR人力資源管理資訊系統 gets its own code, as eCPA
/// names it, and the code it had here, A2, stays as an alias (`application_aliases`) so the
/// lists people made with it and callers that name it keep working. B3 (國民旅遊卡, the DGPA's)
/// goes to D; C1 (the retirement platform, 銓敘部's) with WebHR to X.
///
/// Each single sign-on assertion the portal issues when it opens an application with an
/// address is recorded by its `jti`, so the application can redeem it once
/// (`portal::sso`).
const V13: &str = r#"
CREATE TABLE application_groups (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position {int} NOT NULL
);
INSERT INTO application_groups (code, name_zh, name_en, position) VALUES ('A', '人事資料填報及考核', 'Personnel data reporting and appraisal', 1);
INSERT INTO application_groups (code, name_zh, name_en, position) VALUES ('B', '人事資料服務', 'Personnel data services', 2);
INSERT INTO application_groups (code, name_zh, name_en, position) VALUES ('D', '其他人事總處業務', 'Other DGPA services', 3);
INSERT INTO application_groups (code, name_zh, name_en, position) VALUES ('X', '非人事總處機關及系統', 'Systems of other agencies', 4);
ALTER TABLE applications ADD COLUMN group_code TEXT REFERENCES application_groups(code);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('B5A', '個人簡要自述', 'Short self-description', 'nhi_card', 2);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('B6', 'PICS人事資訊系統服務網', 'PICS personnel information system service site', 'certificate', 3);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('WebHR', 'WebHR人力資源管理資訊系統', 'WebHR human resources management information system', 'certificate', 2);
UPDATE applications SET group_code = 'A', position = 1 WHERE code = 'A1';
UPDATE applications SET group_code = 'B', position = 1 WHERE code = 'B5';
UPDATE applications SET group_code = 'B' WHERE code IN ('B5A', 'B6');
UPDATE applications SET group_code = 'D', position = 1 WHERE code = 'B3';
UPDATE applications SET group_code = 'X', position = 1 WHERE code = 'C1';
UPDATE applications SET group_code = 'X' WHERE code = 'WebHR';
CREATE TABLE application_aliases (
    code TEXT PRIMARY KEY,
    app_code TEXT NOT NULL REFERENCES applications(code)
);
INSERT INTO application_aliases (code, app_code) VALUES ('A2', 'WebHR');
INSERT INTO my_applications (employee_id, app_code, added_at) SELECT employee_id, 'WebHR', added_at FROM my_applications WHERE app_code = 'A2';
DELETE FROM my_applications WHERE app_code = 'A2';
DELETE FROM applications WHERE code = 'A2';
CREATE TABLE sso_assertions (
    jti TEXT PRIMARY KEY,
    app_code TEXT NOT NULL REFERENCES applications(code),
    employee_id {int} NOT NULL REFERENCES employees(id),
    issued_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    redeemed_at {int}
);
CREATE INDEX sso_assertions_expiry ON sso_assertions (expires_at);
"#;

/// Each employee's last login, and, on each session, the login before it (shown beside this
/// one's time as 登入時間（本次／上次）); sessions opened before have none.
const V9: &str = r#"
ALTER TABLE employees ADD COLUMN last_login_at {int};
ALTER TABLE sessions ADD COLUMN previous_login_at {int};
"#;

/// A registration records the version of the registration terms (全民健康保險網路服務註冊管理作業
/// 要點) its holder accepted before the form, and when; registrations made before have none.
const V8: &str = r#"
ALTER TABLE nhi_registrations ADD COLUMN terms_version TEXT;
ALTER TABLE nhi_registrations ADD COLUMN terms_accepted_at {int};
"#;

/// Wrong passwords are counted per subject (card, account) and source network, with a daily
/// ceiling per subject and guesses reserved while they are checked (see `portal::guard`);
/// the per-card and per-account counters they replace go. Sessions record whether the card
/// was proved to be in the reader, and the randoms of NHI cards' answers are single-use
/// (`portal::possession`). A certificate challenge belongs to the network it was issued to.
/// Secret keys every process on the database shares (the CSRF tokens' HMAC key) are kept.
const V7: &str = r#"
CREATE TABLE login_guards (
    subject TEXT NOT NULL,
    network TEXT NOT NULL,
    failures {int} NOT NULL,
    lockouts {int} NOT NULL,
    locked_until {int},
    updated_at {int} NOT NULL,
    PRIMARY KEY (subject, network)
);
CREATE TABLE login_ceilings (
    subject TEXT PRIMARY KEY,
    window_started_at {int} NOT NULL,
    failures {int} NOT NULL,
    held_at {int}
);
CREATE TABLE login_reservations (
    id {id},
    subject TEXT NOT NULL,
    network TEXT NOT NULL,
    expires_at {int} NOT NULL
);
CREATE INDEX login_reservations_subject ON login_reservations (subject, network);
ALTER TABLE nhi_registrations DROP COLUMN failed_attempts;
ALTER TABLE nhi_registrations DROP COLUMN locked_until;
ALTER TABLE employees DROP COLUMN account_failed;
ALTER TABLE employees DROP COLUMN account_locked_until;
ALTER TABLE sessions ADD COLUMN card_verified {int} NOT NULL DEFAULT 0;
ALTER TABLE login_challenges ADD COLUMN network TEXT;
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key_hex TEXT NOT NULL,
    created_at {int} NOT NULL
);
CREATE TABLE card_randoms (
    random_hash TEXT PRIMARY KEY,
    seen_at {int} NOT NULL
);
"#;

/// An NHI-card registration is for a person the directory knows, checked against what it
/// holds of them (birth date, household), one per person: looked up by national ID.
const V6: &str = r#"
ALTER TABLE employees ADD COLUMN birth_date TEXT;
ALTER TABLE employees ADD COLUMN household_number TEXT;
ALTER TABLE employees ADD COLUMN household_county TEXT;
ALTER TABLE employees ADD COLUMN household_township TEXT;
ALTER TABLE employees ADD COLUMN household_village TEXT;
ALTER TABLE employees ADD COLUMN household_neighbourhood {int};
CREATE INDEX nhi_registrations_national_id ON nhi_registrations (national_id);
"#;

/// The agency and unit of a person's current post are the directory's until a correction of
/// them is approved; they used to be copied into the record at every directory write, where
/// they then stayed when the person moved. The copies still equal to the directory go (a
/// differing value is an approved correction and stays).
const V5: &str = r#"
DELETE FROM record_fields WHERE category = 'current_post' AND field IN ('occupying_agency', 'serving_agency')
    AND value = (SELECT a.name FROM employees e JOIN agencies a ON a.code = e.agency_code WHERE e.id = record_fields.employee_id);
DELETE FROM record_fields WHERE category = 'current_post' AND field IN ('occupying_unit', 'serving_unit')
    AND value = (SELECT u.name FROM employees e JOIN units u ON u.id = e.unit_id WHERE e.id = record_fields.employee_id);
"#;

/// What `ecpa maintenance`, `ecpa announce` and the other operator commands need: the reason of a
/// maintenance window (shown in the registration service's notice), the operator's announcements,
/// and the name of the operator behind an audit row (operators are not employees, so `actor`
/// cannot name them).
const V4: &str = r#"
ALTER TABLE maintenance_windows ADD COLUMN reason TEXT;
ALTER TABLE audit ADD COLUMN operator TEXT;
CREATE TABLE announcements (
    id {id},
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at {int} NOT NULL,
    until_at {int},
    created_by TEXT
);
"#;

/// Every challenge issued prunes the expired ones: without this index that was a scan of the
/// whole table, growing with every login of the last day.
const V3: &str = r#"
CREATE INDEX login_challenges_expiry ON login_challenges (expires_at);
"#;

const V2: &str = r#"
CREATE TABLE login_challenges (
    id_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    used_at {int}
);
CREATE TABLE certificate_bindings (
    binding_key TEXT PRIMARY KEY,
    employee_id {int} NOT NULL REFERENCES employees(id),
    subject TEXT NOT NULL,
    bound_at {int} NOT NULL,
    last_used_at {int} NOT NULL
);
CREATE INDEX certificate_bindings_employee ON certificate_bindings (employee_id);
"#;

const V1: &str = r#"
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE units (
    id {id},
    agency_code TEXT NOT NULL REFERENCES agencies(code),
    name TEXT NOT NULL,
    UNIQUE (agency_code, name)
);
CREATE TABLE employees (
    id {id},
    national_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies(code),
    unit_id {int} REFERENCES units(id),
    title TEXT NOT NULL,
    email TEXT,
    status TEXT NOT NULL,
    left_on TEXT,
    left_reason TEXT,
    account_name TEXT UNIQUE,
    account_password_hash TEXT,
    account_failed {int} NOT NULL DEFAULT 0,
    account_locked_until {int},
    updated_at {int} NOT NULL
);
CREATE INDEX employees_agency ON employees (agency_code, status);
CREATE TABLE officers (
    employee_id {int} PRIMARY KEY REFERENCES employees(id),
    agency_code TEXT NOT NULL REFERENCES agencies(code)
);
CREATE TABLE record_fields (
    employee_id {int} NOT NULL REFERENCES employees(id),
    category TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (employee_id, category, field)
);
CREATE TABLE nhi_registrations (
    card_number TEXT PRIMARY KEY,
    national_id TEXT NOT NULL,
    name TEXT NOT NULL,
    household_number TEXT NOT NULL,
    county TEXT NOT NULL,
    township TEXT NOT NULL,
    village TEXT NOT NULL,
    neighbourhood {int} NOT NULL,
    phone TEXT NOT NULL,
    mobile TEXT NOT NULL,
    email TEXT NOT NULL,
    spare_email TEXT,
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at {int} NOT NULL,
    confirmed_at {int},
    failed_attempts {int} NOT NULL DEFAULT 0,
    locked_until {int}
);
CREATE TABLE registration_tokens (
    token_hash TEXT PRIMARY KEY,
    card_number TEXT NOT NULL REFERENCES nhi_registrations(card_number),
    purpose TEXT NOT NULL,
    new_email TEXT,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    used_at {int}
);
CREATE TABLE maintenance_windows (
    id {id},
    starts_at {int} NOT NULL,
    ends_at {int} NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    employee_id {int} NOT NULL REFERENCES employees(id),
    level TEXT NOT NULL,
    method TEXT NOT NULL,
    created_at {int} NOT NULL,
    last_seen_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    ended_at {int}
);
CREATE TABLE applications (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    required_level TEXT NOT NULL,
    position {int} NOT NULL
);
CREATE TABLE my_applications (
    employee_id {int} NOT NULL REFERENCES employees(id),
    app_code TEXT NOT NULL REFERENCES applications(code),
    added_at {int} NOT NULL,
    PRIMARY KEY (employee_id, app_code)
);
CREATE TABLE consents (
    employee_id {int} PRIMARY KEY REFERENCES employees(id),
    text_version TEXT NOT NULL,
    agreed_at {int} NOT NULL,
    login_method TEXT NOT NULL
);
CREATE TABLE award_orders (
    id {id},
    employee_id {int} NOT NULL REFERENCES employees(id),
    agency_code TEXT NOT NULL,
    approving_agency TEXT NOT NULL,
    approved_on TEXT NOT NULL,
    document_number TEXT NOT NULL,
    person_name TEXT NOT NULL,
    unit_name TEXT NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    kind TEXT NOT NULL,
    count {int} NOT NULL,
    special {int} NOT NULL,
    rating_year {int} NOT NULL,
    delivery TEXT NOT NULL,
    paper_reason TEXT,
    issued_by {int} NOT NULL,
    issued_at {int} NOT NULL,
    viewed_at {int},
    UNIQUE (document_number, employee_id)
);
CREATE INDEX award_orders_unviewed ON award_orders (employee_id) WHERE viewed_at IS NULL AND delivery = 'electronic';
CREATE INDEX award_orders_person_year ON award_orders (employee_id, rating_year);
CREATE INDEX award_orders_agency_unsigned ON award_orders (agency_code) WHERE viewed_at IS NULL AND delivery = 'electronic';
CREATE TABLE outbox (
    id {id},
    created_at {int} NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id {int},
    attempts {int} NOT NULL DEFAULT 0,
    next_attempt_at {int} NOT NULL,
    sent_at {int},
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE TABLE proofing_drafts (
    employee_id {int} NOT NULL REFERENCES employees(id),
    category TEXT NOT NULL,
    field TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT NOT NULL,
    staged_at {int} NOT NULL,
    PRIMARY KEY (employee_id, category, field)
);
CREATE TABLE proofing_submissions (
    id {id},
    employee_id {int} NOT NULL REFERENCES employees(id),
    agency_code TEXT NOT NULL,
    completed_at {int} NOT NULL,
    completed_on TEXT NOT NULL,
    corrections {int} NOT NULL,
    pending {int} NOT NULL
);
CREATE INDEX proofing_submissions_agency ON proofing_submissions (agency_code, completed_on);
CREATE TABLE proofing_corrections (
    id {id},
    submission_id {int} NOT NULL REFERENCES proofing_submissions(id),
    employee_id {int} NOT NULL REFERENCES employees(id),
    agency_code TEXT NOT NULL,
    category TEXT NOT NULL,
    field TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT NOT NULL,
    status TEXT NOT NULL,
    processed_by {int},
    processed_at {int},
    reject_reason TEXT
);
CREATE INDEX proofing_corrections_submission ON proofing_corrections (submission_id);
CREATE TABLE todos (
    id {id},
    agency_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id {int} NOT NULL,
    employee_id {int} NOT NULL,
    created_at {int} NOT NULL,
    done_at {int}
);
CREATE INDEX todos_open ON todos (agency_code) WHERE done_at IS NULL;
CREATE TABLE audit (
    id {id},
    at {int} NOT NULL,
    actor {int},
    action TEXT NOT NULL,
    subject {int},
    agency_code TEXT,
    object TEXT,
    detail TEXT
);
CREATE INDEX audit_subject ON audit (subject, at);
CREATE INDEX audit_agency ON audit (agency_code, at);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('B5', '公務人員個人資料校對網站', 'Civil servants'' personal data proofing site', 'nhi_card', 1);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('B3', '國民旅遊卡檢核系統', 'National travel card check', 'password', 2);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('C1', '全國公教人員退休撫卹整合平臺', 'Public servants'' retirement and pension platform', 'nhi_card', 3);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('A1', '人事資料報送', 'Personnel data submission', 'certificate', 4);
INSERT INTO applications (code, name_zh, name_en, required_level, position) VALUES ('A2', 'WebHR 人力資源管理資訊系統', 'WebHR human resources system', 'certificate', 5);
"#;

/// Renders a migration's text for one dialect.
pub fn render(sql: &str, dialect: Dialect) -> String {
    let (id, int) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER"),
        Dialect::Postgres => ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT"),
    };
    sql.replace("{id}", id).replace("{int}", int)
}

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version the database is at (0 for a new one), without migrating it.
pub fn current_version(store: &dyn Store) -> Result<i64> {
    store.write(|tx| {
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            &[],
        )?;
        tx.query_int("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])
    })
}

/// Brings the database to the newest schema; returns the version it is at.
pub fn migrate(store: &dyn Store, now_ms: i64) -> Result<i64> {
    store.write(|tx| {
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            &[],
        )
    })?;
    for m in MIGRATIONS {
        let sql = render(m.sql, store.dialect());
        store.write(|tx| {
            let current = tx.query_int("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?;
            if current > latest_version() {
                return Err(Error::with(
                    ErrorCode::SchemaTooNew,
                    format!("資料庫版本 {current}，本程式支援至 {}", latest_version()),
                    format!("database schema {current}, this build knows up to {}", latest_version()),
                ));
            }
            if current >= m.version {
                return Ok(());
            }
            for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
                tx.execute(stmt, &[])?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                &[Value::Int(m.version), Value::from(m.name), Value::Int(now_ms)],
            )?;
            Ok(())
        })?;
    }
    store.read(|tx| tx.query_int("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]))
}
