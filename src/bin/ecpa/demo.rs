//! `ecpa demo`: the whole flow of the guides, end to end, on a fresh embedded database.
//!
//! Everything is real (SQLite file, argon2id hashes, the outbox and a maildir on disk) except
//! the NHI cards, which are [`SoftNhiCard`]s. Each step is reported as it happens, so the
//! command can print it in Chinese or English, or as JSON.

use std::path::{Path, PathBuf};

use serde::Serialize;

use ecpa::card::SoftNhiCard;
use ecpa::error::{Error, ErrorCode, Result};
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Signer, TrustAnchor};
use ecpa::portal::{
    ApplicationLink, AuditQuery, AwardKind, CertificateChallenge, CertificateResponse, CertificateTrust,
    CorrectionDecision, FileMailer, LocalPortal, LoginSignature, NewAwardOrder, PageRequest, Portal, PortalConfig,
    ProofingCategory, ProofingQuery, ReceivedMail, RegistrationForm, ResetDelivery,
};
use ecpa::store::SqliteStore;
use ecpa::types::{
    CardNumber, DocumentNumber, Email, HouseholdAddress, HouseholdNumber, Lang, NationalId, NhiCardData, Password,
    PersonName, RocDate, Sex,
};

/// One step of the demo, as printed and as data.
#[derive(Debug, Clone, Serialize)]
pub struct DemoStep {
    /// Step number, from 1.
    pub number: u32,
    /// What the step does.
    pub title: String,
    /// What happened, as printed.
    pub lines: Vec<String>,
    /// What happened, as the engine answered it: the step's results (receipts, sessions,
    /// orders, pages, …) and its refusals with their codes, for scripts (`ecpa demo --json`).
    pub data: serde_json::Value,
}

/// Where the demo ran and what it left behind.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// The database file.
    pub database: PathBuf,
    /// The maildir holding every mail the portal sent.
    pub maildir: PathBuf,
    /// Steps run.
    pub steps: u32,
}

const DIRECTORY_CSV: &str = "\
agency_code,agency_name,unit,national_id,name,title,email,status,left_on,left_reason,officer
379130000C,臺北市政府勞動局,勞動檢查處,A123456789,王小明,科員,wang.hsiaoming@mail.taipei.gov.tw,在職,,,
379130000C,臺北市政府勞動局,人事室,F223456786,陳美玲,人事管理員,chen.meiling@mail.taipei.gov.tw,在職,,,Y
379130000C,臺北市政府勞動局,勞動檢查處,F128765439,林志豪,技士,,卸職,113/12/31,退休,
379000000A,臺北市政府,人事處,A234567893,張志明,專員,chang.chiming@mail.taipei.gov.tw,在職,,,Y
";

struct Demo<'a> {
    lang: Lang,
    portal: LocalPortal,
    /// The demo's own GRCA-like and MOICA-like CAs: the portal trusts only them.
    pki: TestPki,
    mailer: FileMailer,
    step: std::cell::Cell<u32>,
    report: std::cell::RefCell<&'a mut dyn FnMut(&DemoStep)>,
}

impl Demo<'_> {
    fn t(&self, zh: &str, en: &str) -> String {
        self.lang.pick(zh, en).to_owned()
    }

    fn step(&self, zh: &str, en: &str, lines: Vec<String>, data: serde_json::Value) {
        self.step.set(self.step.get() + 1);
        let step = DemoStep {
            number: self.step.get(),
            title: self.t(zh, en),
            lines,
            data,
        };
        (self.report.borrow_mut())(&step);
    }

    /// A refusal as printed: its number and message (the stable name is in the data).
    fn err(&self, e: &Error) -> String {
        format!("E{}{}{}", e.code().number(), self.t("：", ": "), e.message(self.lang))
    }

    /// `n` things, in the run's language: 「3 件」, or "1 order" / "3 orders".
    fn count(&self, n: usize, zh: &str, one: &str, many: &str) -> String {
        match self.lang {
            Lang::ZhTw => format!("{n} {zh}"),
            Lang::En if n == 1 => format!("1 {one}"),
            Lang::En => format!("{n} {many}"),
        }
    }

    /// A date as people reading the run's language read it: ROC in Chinese, Gregorian (with
    /// the ROC form the documents print) in English.
    fn date(&self, d: RocDate) -> String {
        self.t(&d.to_slash(), &format!("{} (ROC {})", d.to_iso(), d.to_slash()))
    }
}

/// A refusal as data: its number, stable name and both messages.
fn err_json(e: &Error) -> serde_json::Value {
    serde_json::json!({
        "code": e.code().number(),
        "name": e.code().name(),
        "message_zh": e.message(Lang::ZhTw),
        "message_en": e.message(Lang::En),
    })
}

/// Refusals as data (a step may expect several).
fn errs_json<'a>(errors: impl IntoIterator<Item = &'a Error>) -> serde_json::Value {
    serde_json::Value::Array(errors.into_iter().map(err_json).collect())
}

impl Demo<'_> {
    /// Delivers the outbox and returns the body of the newest mail.
    fn deliver(&self) -> Result<(usize, ReceivedMail)> {
        let report = self.portal.deliver_outbox(&self.mailer, 1000)?;
        let newest = self
            .mailer
            .messages()?
            .pop()
            .ok_or_else(|| Error::internal("no mail was delivered"))?;
        Ok((report.sent, newest))
    }
}

/// The token of the link in a mail: the person opening the link.
fn token_in(mail: &ReceivedMail) -> Result<String> {
    mail.link_token()
        .map(str::to_owned)
        .ok_or_else(|| Error::internal("no link in the mail"))
}

fn card(number: &str, name: &str, id: &str, birth: &str, sex: Sex, issued: &str) -> Result<SoftNhiCard> {
    Ok(SoftNhiCard::new(&NhiCardData {
        card_number: CardNumber::parse(number)?,
        name: PersonName::new(name)?,
        national_id: NationalId::parse(id)?,
        birth_date: RocDate::parse(birth)?,
        sex,
        issue_date: RocDate::parse(issued)?,
    }))
}

fn registration(card: NhiCardData, password: &str, email: &str) -> Result<RegistrationForm> {
    Ok(RegistrationForm {
        card,
        household_number: HouseholdNumber::parse("F1234567")?,
        address: HouseholdAddress::new("63000", "63000010", "63000010001", 12)?,
        password: Password::new(password)?,
        confirmation: Password::new(password)?,
        phone: Some("02-2720-8889".into()),
        mobile: Some("0912-345-678".into()),
        email: Email::parse(email)?,
        spare_email: None,
        terms_version: ecpa::portal::registration_terms().version,
    })
}

fn order(id: &str, approved: &str, doc: &str, kind: AwardKind, count: u8, reason: &str) -> Result<NewAwardOrder> {
    let approved_on = RocDate::parse(approved)?;
    Ok(NewAwardOrder {
        national_id: NationalId::parse(id)?,
        approving_agency: "臺北市政府勞動局".into(),
        approved_on,
        document_number: DocumentNumber::parse(doc)?,
        reason: reason.into(),
        legal_basis: "公務人員考績法第12條、同法施行細則第13條".into(),
        kind,
        count,
        special: false,
        rating_year: approved_on.roc_year(),
    })
}

/// The claims of a JWT, read without checking it (the demo shows what the browser carries;
/// the portal checks it at redemption).
fn claims_of(token: &str) -> Result<serde_json::Value> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|p| Base64UrlUnpadded::decode_vec(p).ok())
        .ok_or_else(|| Error::internal("the assertion is not a JWT"))?;
    serde_json::from_slice(&payload).map_err(|e| Error::internal(format!("the assertion's claims: {e}")))
}

/// Runs the demo in `dir` (a fresh database `ecpa-demo.db` and a maildir `mail/` there, or
/// the database at `db` if given), reporting each step to `report`.
pub fn run(dir: &Path, db: Option<&Path>, lang: Lang, report: &mut dyn FnMut(&DemoStep)) -> Result<DemoSummary> {
    let database = db.map_or_else(|| dir.join("ecpa-demo.db"), Path::to_path_buf);
    let maildir = dir.join("mail");
    let pki = TestPki::new()?;
    let trust =
        CertificateTrust::new(vec![TrustAnchor::new(pki.root.clone())]).with_intermediates([pki.intermediate.clone()]);
    let d = Demo {
        lang,
        // B5A opens with single sign-on, at an address of the demo's (nothing listens there).
        portal: LocalPortal::with_store(
            Box::new(SqliteStore::open(&database)?),
            PortalConfig {
                applications: vec![ApplicationLink::new("B5A", "https://b5a.example.gov.tw/sso")?],
                ..PortalConfig::default()
            },
        )?
        .with_certificate_trust(trust),
        pki,
        mailer: FileMailer::new(&maildir)?,
        step: Default::default(),
        report: std::cell::RefCell::new(report),
    };
    flow(&d)?;
    Ok(DemoSummary {
        database,
        maildir,
        steps: d.step.get(),
    })
}

fn flow(d: &Demo<'_>) -> Result<()> {
    let p = &d.portal;
    let import = p.import_directory_csv(DIRECTORY_CSV.as_bytes())?;
    let lines = vec![d.t(
        &format!(
            "匯入 {} 筆人員資料（新增 {}、更新 {}），人事人員 {} 位；身分證號一律遮蔽，如 {}",
            import.rows,
            import.created,
            import.updated,
            import.officers,
            NationalId::parse("A123456789")?
        ),
        &format!(
            "imported {} ({} new, {} updated), {}; IDs are always masked, e.g. {}",
            d.count(import.rows, "", "person", "people"),
            import.created,
            import.updated,
            d.count(import.officers, "", "personnel officer", "personnel officers"),
            NationalId::parse("A123456789")?
        ),
    )];
    d.step(
        "匯入機關人員名冊（CSV）",
        "Import the agency directory (CSV)",
        lines,
        serde_json::json!({ "import": import }),
    );

    // ---- NHI card registration ----
    let wang_card = card("000011112222", "王小明", "A123456789", "0750315", Sex::Male, "1100601")?;
    let wang = wang_card.read()?;
    let terms = p.registration_terms()?;
    let receipt = p.start_nhi_registration(&registration(
        wang.clone(),
        "Ecpa#2026ok",
        "wang.hsiaoming@mail.taipei.gov.tw",
    )?)?;
    let (sent, mail) = d.deliver()?;
    let token = token_in(&mail)?;
    let notice = p.confirm_nhi_registration(&wang_card.read()?, &token)?;
    let strength = Password::new("Ecpa#2026ok")?.strength();
    let lines = vec![
        d.t(
            &format!("閱讀{}，點選「{}」", terms.title_zh, terms.accept_zh),
            &format!("terms read and accepted ({}): \"{}\"", terms.title_en, terms.accept_en),
        ),
        d.t(
            &format!(
                "讀取健保卡：{}（卡號 {}，出生 {}）",
                wang.name.as_str(),
                wang.card_number.masked(),
                wang.birth_date
            ),
            &format!(
                "card read: {} (card {}, born {})",
                wang.name.as_str(),
                wang.card_number.masked(),
                wang.birth_date.to_iso()
            ),
        ),
        d.t(
            &format!("密碼強度：{}", strength.label(Lang::ZhTw)),
            &format!("password strength: {}", strength.label(Lang::En)),
        ),
        d.t(
            &format!(
                "認證信已寄至 {}（{} 封），連結有效至 {}",
                receipt.sent_to,
                sent,
                receipt.link_expires_at.to_zh()
            ),
            &format!(
                "confirmation mail sent to {} ({}), link valid until {}",
                receipt.sent_to,
                d.count(sent, "", "mail", "mails"),
                receipt.link_expires_at.to_iso()
            ),
        ),
        d.t(
            &format!("插入同一張健保卡開啟連結：{}", notice.message_zh),
            &format!("opened the link with the same card inserted: {}", notice.message_en),
        ),
    ];
    d.step(
        "健保卡網路服務註冊",
        "Register the NHI card for online services",
        lines,
        serde_json::json!({
            "terms": terms,
            "card": { "name": wang.name.as_str(), "card_number": wang.card_number.masked(), "birth_date": wang.birth_date },
            "password_strength": strength.label(Lang::En),
            "receipt": receipt,
            "notice": notice,
        }),
    );

    // The attacks a registration over the network invites: a card invented around Wang's ID,
    // name and birth date, and a stranger the directory does not know.
    let forged = card("000066667777", "王小明", "A123456789", "0750315", Sex::Male, "1200101")?.read()?;
    let taken = p
        .start_nhi_registration(&registration(forged, "Attack#2026", "attacker@example.com")?)
        .err();
    let (told, _) = d.deliver()?;
    let outsider = card(
        "000012121212",
        "路人乙",
        "E222223335",
        "0800101",
        Sex::Female,
        "1120101",
    )?
    .read()?;
    let unknown = p
        .start_nhi_registration(&registration(outsider, "Other#2026", "outsider@example.com")?)
        .err();
    let mut lines: Vec<String> = [&taken, &unknown].into_iter().flatten().map(|e| d.err(e)).collect();
    lines.push(d.t(
        &format!("本人收到通知信 {told} 封（寄至人事資料的電子信箱）"),
        &format!(
            "the holder was told: {} (to the address in the personnel record)",
            d.count(told, "", "mail", "mails")
        ),
    ));
    d.step(
        "冒名註冊：以他人身分證號註冊被拒",
        "Registering in someone else's name is refused",
        lines,
        serde_json::json!({ "refused": errs_json([&taken, &unknown].into_iter().flatten()), "holder_told": told }),
    );

    let warn = Email::parse("someone@hotmail.com")?
        .microsoft_warning()
        .map(|w| w.message(d.lang).to_owned())
        .unwrap_or_default();
    d.step(
        "電子郵件提醒",
        "E-mail warning",
        vec![d.t(
            &format!("若填寫 someone@hotmail.com：{warn}"),
            &format!("had the form said someone@hotmail.com: {warn}"),
        )],
        serde_json::json!({ "email": "someone@hotmail.com", "warning": warn }),
    );

    // Forgot password, second variant: the old password works until the reset is done.
    p.request_password_reset(&wang, &ResetDelivery::RegisteredAddress)?;
    let (_, mail) = d.deliver()?;
    let reset = token_in(&mail)?;
    let old_still_works = p
        .login_nhi_card(&wang, &Password::new("Ecpa#2026ok")?)
        .map(|s| p.logout(&s.token));
    let new = Password::new("Ecpa#2027ok")?;
    p.complete_password_reset(&wang, &reset, &new, &new)?;
    let reuse = p
        .complete_password_reset(
            &wang,
            &reset,
            &Password::new("Ecpa#2028ok")?,
            &Password::new("Ecpa#2028ok")?,
        )
        .err();
    let lines = vec![
        d.t(
            "重設註冊密碼信已寄出（30 分鐘內有效、限用一次）",
            "reset mail sent (valid 30 minutes, once)",
        ),
        d.t(
            &format!(
                "重設完成前原密碼仍可登入：{}",
                if old_still_works.is_ok() { "是" } else { "否" }
            ),
            &format!("old password still works before the reset: {}", old_still_works.is_ok()),
        ),
        d.t("已設定新密碼", "new password set"),
        reuse.as_ref().map_or_else(String::new, |e| {
            d.t(
                &format!("再用同一連結：{}", d.err(e)),
                &format!("the same link again: {}", d.err(e)),
            )
        }),
    ];
    d.step(
        "忘記註冊密碼",
        "Forgot the registration password",
        lines,
        serde_json::json!({
            "old_password_worked_before_the_reset": old_still_works.is_ok(),
            "reset": true,
            "same_link_again": reuse.as_ref().map(err_json),
        }),
    );

    // ---- login, with the four errors of the guide ----
    let stranger = card(
        "000099998888",
        "路人甲",
        "E222223335",
        "0800101",
        Sex::Female,
        "1120101",
    )?
    .read()?;
    let not_registered = p.login_nhi_card(&stranger, &Password::new("Whatever1")?).err();
    let wrong = p.login_nhi_card(&wang, &Password::new("Wrong#2026")?).err();
    // A registered card whose holder is in no agency, and one who has left office.
    let nobody_card = card("000055556666", "黃大華", "B123456708", "0701010", Sex::Male, "1090909")?.read()?;
    let retired_card = card("000033334444", "林志豪", "F128765439", "0600505", Sex::Male, "1050505")?.read()?;
    // Neither can register online (the directory does not know the one, has no mailbox for the
    // other): both registered at the NHI counter.
    for (c, pw) in [(&nobody_card, "Nobody#2026"), (&retired_card, "Retired#2026")] {
        p.register_nhi_card_in_person(&registration(c.clone(), pw, "someone@example.com.tw")?, "demo")?;
    }
    let nobody = p.login_nhi_card(&nobody_card, &Password::new("Nobody#2026")?).err();
    let retired = p.login_nhi_card(&retired_card, &Password::new("Retired#2026")?).err();
    let session = p.login_nhi_card(&wang, &Password::new("Ecpa#2027ok")?)?;
    let refusals = [not_registered, wrong, nobody, retired];
    let mut lines: Vec<String> = refusals.iter().flatten().map(|e| d.err(e)).collect();
    lines.push(d.t(
        &format!(
            "健保卡＋註冊密碼登入成功：{}（{}），{}，登入方式 {}",
            session.info.name,
            session.info.national_id,
            session.info.agency_name,
            session.info.level.label(Lang::ZhTw)
        ),
        &format!(
            "logged in with NHI card + password: {} ({}), {}, level {}",
            session.info.name,
            session.info.national_id,
            session.info.agency_name,
            session.info.level.label(Lang::En)
        ),
    ));
    d.step(
        "登入 eCPA：四種錯誤與成功登入",
        "Log in to eCPA: the four errors, then success",
        lines,
        serde_json::json!({ "refused": errs_json(refusals.iter().flatten()), "session": session.info }),
    );
    let me = session.token;

    // ---- application catalogue ----
    let apps = p.applications(&me)?;
    let mut lines: Vec<String> = Vec::new();
    for (i, a) in apps.iter().enumerate() {
        // A group's heading as eCPA writes it: 「A.人事資料填報及考核」, the last one without a letter.
        if i == 0 || apps[i - 1].group.code != a.group.code {
            let name = d.lang.pick(&a.group.name_zh, &a.group.name_en);
            lines.push(if a.group.code == "X" {
                name.to_owned()
            } else {
                format!("{}.{}{name}", a.group.code, d.t("", " "))
            });
        }
        let greyed = if a.usable {
            String::new()
        } else {
            d.t("（反灰）", " (greyed out)")
        };
        lines.push(format!("  {} {}{greyed}", a.code, d.lang.pick(&a.name_zh, &a.name_en)));
    }
    p.add_my_application(&me, "B5")?;
    p.open_application(&me, "B5")?;
    lines.push(d.t(
        "已將 B5 加入「我的應用系統」並開啟",
        "added B5 to my applications and opened it",
    ));
    p.add_my_application(&me, "A1")?;
    let a1 = p.open_application(&me, "A1").err();
    lines.extend(a1.iter().map(|e| d.err(e)));
    d.step(
        "應用系統與我的應用系統",
        "Application catalogue and my applications",
        lines,
        serde_json::json!({ "applications": apps, "opened": "B5", "a1_refused": a1.as_ref().map(err_json) }),
    );

    // ---- single sign-on into B5A ----
    p.add_my_application(&me, "B5A")?;
    let opened = p.open_application(&me, "B5A")?;
    let sso = opened
        .sso
        .ok_or_else(|| Error::internal("B5A has an address in the demo's configuration"))?;
    let claims = claims_of(&sso.token)?;
    let who = p.redeem_sso_assertion(&sso.token, "B5A")?;
    let sub = claims["sub"].as_str().unwrap_or_default();
    let mut lines = vec![
        d.t(
            &format!(
                "開啟 B5A 個人簡要自述：人事服務網簽發單一登入憑證（JWT，ES256，至 {} 前有效），由瀏覽器送至 {}（示範用位址）",
                sso.expires_at.to_zh(),
                sso.url
            ),
            &format!(
                "opened B5A (short self-description): the portal signed a single sign-on assertion (JWT, ES256, valid until {}), which the browser posts to {} (the demo's address)",
                sso.expires_at.to_iso(),
                sso.url
            ),
        ),
        d.t(
            &format!(
                "憑證內容：aud={}、auth_level={}、sub={}…（每個應用系統各不相同，不含身分證號）",
                claims["aud"].as_str().unwrap_or_default(),
                claims["auth_level"].as_str().unwrap_or_default(),
                sub.get(..12).unwrap_or(sub)
            ),
            &format!(
                "its claims: aud={}, auth_level={} (the {} login), sub={}… (different in every application, never the national ID)",
                claims["aud"].as_str().unwrap_or_default(),
                claims["auth_level"].as_str().unwrap_or_default(),
                who.auth_level.label(Lang::En),
                sub.get(..12).unwrap_or(sub)
            ),
        ),
    ];
    lines.push(d.t(
        &format!(
            "B5A 以人事服務網的公鑰（/.well-known/jwks.json）驗章後，向人事服務網兌換一次：{}，{}登入",
            who.name,
            who.auth_level.label(Lang::ZhTw)
        ),
        &format!(
            "B5A checks it with the portal's key (/.well-known/jwks.json) and redeems it with the portal, once: {}, logged in with the {}",
            who.name,
            who.auth_level.label(Lang::En)
        ),
    ));
    let replayed = p.redeem_sso_assertion(&sso.token, "B5A").err();
    lines.extend(replayed.iter().map(|e| d.err(e)));
    d.step(
        "單一登入應用系統",
        "Single sign-on into an application",
        lines,
        serde_json::json!({
            "posted_to": sso.url,
            "expires_at": sso.expires_at,
            "claims": { "aud": claims["aud"], "auth_level": claims["auth_level"], "sub": claims["sub"] },
            "redeemed": who,
            "replay_refused": replayed.as_ref().map(err_json),
        }),
    );

    // ---- citizen digital certificate: first login binds, later logins go straight in ----
    let (cert, key) = d
        .pki
        .issue(&EndEntitySpec::citizen("王小明", "0000000056780001", Some("6789")))?;
    let answer = |identify: Option<&str>| -> Result<(CertificateChallenge, CertificateResponse)> {
        let c = p.begin_certificate_login()?;
        let response = CertificateResponse {
            challenge_id: c.challenge_id.clone(),
            certificate: cert.der().to_vec(),
            signature: LoginSignature::RawPkcs1(key.sign(c.to_sign.as_bytes())?),
            identify: identify.map(str::to_owned),
        };
        Ok((c, response))
    };
    let (_, first) = answer(None)?;
    let not_bound = p.complete_certificate_login(&first).err();
    let (_, bind) = answer(Some("A123456789"))?;
    let bound = p.complete_certificate_login(&bind)?;
    let replay = p.complete_certificate_login(&bind).err();
    let (_, later) = answer(None)?;
    let later = p.complete_certificate_login(&later)?;
    p.open_application(&later.token, "A1")?;
    let mut lines = vec![d.t(
        &format!(
            "軟體憑證卡：{}，簽發者 {}，身分證末四碼 {}",
            cert.subject(),
            cert.issuer(),
            cert.id_last_four().unwrap_or_default()
        ),
        &format!(
            "software citizen card: {}, issued by {}, ID ending {}",
            cert.subject(),
            cert.issuer(),
            cert.id_last_four().unwrap_or_default()
        ),
    )];
    lines.extend(not_bound.iter().map(|e| d.err(e)));
    lines.push(d.t(
        &format!(
            "輸入身分證字號（{}）後比對末四碼、綁定並登入：{}，登入方式 {}",
            NationalId::parse("A123456789")?,
            bound.info.name,
            bound.info.level.label(Lang::ZhTw)
        ),
        &format!(
            "entered the national ID ({}): last four digits match, bound and logged in: {}, level {}",
            NationalId::parse("A123456789")?,
            bound.info.name,
            bound.info.level.label(Lang::En)
        ),
    ));
    lines.extend(replay.iter().map(|e| d.err(e)));
    lines.push(d.t(
        &format!("再次登入不需輸入帳號：{}；A1 人事資料報送已可開啟", later.info.name),
        &format!(
            "a later login asks nothing: {}; A1 personnel data submission now opens",
            later.info.name
        ),
    ));
    p.logout(&bound.token)?;
    p.logout(&later.token)?;
    d.step(
        "自然人憑證登入：首次綁定與再次登入",
        "Citizen certificate login: first login binds, later ones go straight in",
        lines,
        serde_json::json!({
            "certificate": { "subject": cert.subject(), "issuer": cert.issuer(), "id_last_four": cert.id_last_four() },
            "first_login_refused": not_bound.as_ref().map(err_json),
            "bound": bound.info,
            "replay_refused": replay.as_ref().map(err_json),
            "later": later.info,
        }),
    );

    // ---- consent ----
    let text = p.consent_text()?;
    let record = p.give_consent(&me, &text.version)?;
    let again = p.give_consent(&me, &text.version)?;
    let withdraw = p.withdraw_consent(&me).err();
    let mut lines = vec![
        d.lang.pick(&text.text_zh, &text.text_en).to_owned(),
        d.t(
            &format!(
                "已同意（版本 {}，{}，以{}登入）",
                record.text_version,
                record.agreed_at.to_zh(),
                record.login_method.level().label(Lang::ZhTw)
            ),
            &format!(
                "agreed (version {}, {}, logged in with the {})",
                record.text_version,
                record.agreed_at.to_iso(),
                record.login_method.level().label(Lang::En)
            ),
        ),
        d.t(
            &format!("再次同意不變更紀錄：{}", again == record),
            &format!("agreeing again changes nothing: {}", again == record),
        ),
    ];
    lines.extend(withdraw.iter().map(|e| d.err(e)));
    d.step(
        "同意獎勵令電子化",
        "Consent to electronic award orders",
        lines,
        serde_json::json!({
            "text": text,
            "record": record,
            "again_unchanged": again == record,
            "withdraw_refused": withdraw.as_ref().map(err_json),
        }),
    );

    // ---- the officer issues orders ----
    let chen = card(
        "000077778888",
        "陳美玲",
        "F223456786",
        "0720808",
        Sex::Female,
        "1111111",
    )?
    .read()?;
    p.start_nhi_registration(&registration(
        chen.clone(),
        "Officer#2026",
        "chen.meiling@mail.taipei.gov.tw",
    )?)?;
    let (_, mail) = d.deliver()?;
    p.confirm_nhi_registration(&chen, &token_in(&mail)?)?;
    let officer = p.login_nhi_card(&chen, &Password::new("Officer#2026")?)?.token;
    let orders = vec![
        order(
            "A123456789",
            "112/12/20",
            "北市勞人字第1126001234號",
            AwardKind::MajorMerit,
            1,
            "辦理勞動檢查專案績效卓著",
        )?,
        order(
            "A123456789",
            "113/03/01",
            "北市勞人字第1136000456號",
            AwardKind::MajorMerit,
            1,
            "協助重大職災調查",
        )?,
        order(
            "A123456789",
            "114/05/02",
            "北市勞人字第1146000789號",
            AwardKind::Commendation,
            2,
            "辦理業務認真負責",
        )?,
        order(
            "A123456789",
            "114/09/15",
            "北市勞人字第1146001001號",
            AwardKind::Merit,
            1,
            "推動勞資爭議調解",
        )?,
        order(
            "A123456789",
            "114/10/01",
            "北市勞人字第1146001200號",
            AwardKind::Reprimand,
            1,
            "公文逾期未辦",
        )?,
    ];
    let bulk = p.issue_award_orders(&officer, &orders)?;
    let (sent, _) = d.deliver()?;
    let mut lines = vec![d.t(
        &format!(
            "一次發布 {} 件：電子 {} 件、紙本 {} 件；寄出通知信 {} 封",
            bulk.issued, bulk.electronic, bulk.paper, sent
        ),
        &format!(
            "issued {} at once: {} electronic, {} on paper; {} sent",
            d.count(bulk.issued, "", "order", "orders"),
            bulk.electronic,
            bulk.paper,
            d.count(sent, "", "notice", "notices")
        ),
    )];
    for (o, (_, delivery)) in orders.iter().zip(&bulk.orders) {
        let how = match delivery {
            ecpa::portal::Delivery::Electronic => d.t("電子化", "electronic"),
            ecpa::portal::Delivery::Paper(r) => d.t(
                &format!("紙本（{}）", r.label(Lang::ZhTw)),
                &format!("paper ({})", r.label(Lang::En)),
            ),
        };
        let what = d.t(
            &format!("{}{}次", o.kind.label(Lang::ZhTw), o.count),
            &format!("{} × {}", o.count, o.kind.label(Lang::En)),
        );
        lines.push(format!(
            "{} {} {what} → {how}",
            d.date(o.approved_on),
            o.document_number
        ));
    }
    let subjects: Vec<String> = d
        .mailer
        .messages()?
        .into_iter()
        .rev()
        .take(sent)
        .map(|m| m.subject)
        .collect();
    lines.extend(
        subjects
            .into_iter()
            .rev()
            .map(|s| d.t(&format!("通知信主旨：{s}"), &format!("notice subject: {s}"))),
    );
    d.step(
        "人事人員發布獎懲令",
        "The personnel officer issues award orders",
        lines,
        serde_json::json!({ "report": bulk, "notices_sent": sent }),
    );

    // ---- the employee reads and signs ----
    let unviewed = p.unviewed_award_orders(&me)?;
    let mut lines = vec![d.t(
        &format!("未檢視獎令 {} 件", unviewed.len()),
        &format!("{} not viewed yet", d.count(unviewed.len(), "", "order", "orders")),
    )];
    let mut signed = None;
    if let Some(first) = unviewed.first() {
        let o = p.view_award_order(&me, first.id)?;
        signed = Some(o.clone());
        lines.push(d.t(
            &format!(
                "檢視並簽收 {}：{}{}次，事由「{}」，簽收時間 {}",
                o.summary.document_number,
                o.summary.kind.label(Lang::ZhTw),
                o.summary.count,
                o.reason,
                o.summary.viewed_at.map(|t| t.to_zh()).unwrap_or_default()
            ),
            &format!(
                "viewed and signed for {}: {} × {}, reason \"{}\", signed {}",
                o.summary.document_number,
                o.summary.count,
                o.summary.kind.label(Lang::En),
                o.reason,
                o.summary.viewed_at.map(|t| t.to_iso()).unwrap_or_default()
            ),
        ));
    }
    let left = p.unviewed_award_orders(&me)?.len();
    lines.push(d.t(
        &format!("尚未簽收 {left} 件"),
        &format!("{} left to sign", d.count(left, "", "order", "orders")),
    ));
    d.step(
        "未檢視獎令：檢視即簽收",
        "Unviewed award orders: viewing is signing",
        lines,
        serde_json::json!({ "unviewed": unviewed, "signed": signed, "left": left }),
    );

    let history = p.award_history(&me)?;
    let lines = history
        .iter()
        .map(|y| {
            let net = if y.net_punishment.units() > 0 {
                y.net_punishment.describe(false, d.lang)
            } else {
                y.net_reward.describe(true, d.lang)
            };
            d.t(
                &format!(
                    "{} 年度：{} 件；平時獎懲相抵後 {}",
                    y.rating_year,
                    y.orders.len(),
                    if net.is_empty() { "無".into() } else { net.clone() }
                ),
                &format!(
                    "rating year {} (ROC; {}): {}; ordinary after offsetting: {}",
                    y.rating_year,
                    y.rating_year + 1911,
                    d.count(y.orders.len(), "", "order", "orders"),
                    if net.is_empty() { "none".into() } else { net }
                ),
            )
        })
        .collect();
    d.step(
        "查詢個人歷年獎懲資料",
        "Yearly rewards and punishments",
        lines,
        serde_json::json!({ "years": history }),
    );

    let unsigned = p.unsigned_award_orders(&officer, PageRequest::default())?;
    let lines = unsigned
        .items
        .iter()
        .map(|u| {
            format!(
                "{} {} {} {}",
                u.national_id,
                u.name,
                u.order.document_number,
                u.order.kind.label(d.lang)
            )
        })
        .collect();
    d.step(
        "人事人員：尚未簽收名單",
        "Officer: who has not signed",
        lines,
        serde_json::json!({ "unsigned": unsigned }),
    );

    // ---- proofing the e-mail address ----
    let before = p.personal_record(&me)?;
    let email_before = before
        .categories
        .iter()
        .find(|c| c.category == ProofingCategory::CurrentPost)
        .and_then(|c| c.fields.iter().find(|f| f.key == "email"))
        .and_then(|f| f.value.clone())
        .unwrap_or_default();
    let staged = p.stage_correction(
        &me,
        ProofingCategory::CurrentPost,
        "email",
        "hsiaoming.wang@mail.taipei.gov.tw",
    )?;
    let submission = p.complete_proofing(&me)?;
    let todos = p.officer_todos(&officer)?;
    let lines = vec![
        d.t(
            &format!(
                "現職資料 電子郵件信箱 修改前：{}　修改後：{}",
                email_before, staged.after
            ),
            &format!("current post, e-mail: before {} / after {}", email_before, staged.after),
        ),
        d.t(
            &format!("按下「校對完成」（{} 項修正）", submission.corrections),
            &format!(
                "pressed \"proofing complete\" ({})",
                d.count(submission.corrections as usize, "", "correction", "corrections")
            ),
        ),
        d.t(
            &format!("人事人員待辦事項立即出現 {} 筆", todos.len()),
            &format!(
                "{} for the officer at once",
                d.count(todos.len(), "", "to-do item appears", "to-do items appear")
            ),
        ),
    ];
    d.step(
        "個人資料校對：修正電子郵件信箱",
        "Proofing: correct the e-mail address",
        lines,
        serde_json::json!({ "staged": staged, "submission": submission, "officer_todos": todos }),
    );

    let today = RocDate::today_in_taiwan(time::OffsetDateTime::now_utc());
    let query = ProofingQuery {
        from: Some(RocDate::parse("101/01/01")?),
        to: Some(today),
        proofed: Some(true),
        processed: Some(false),
        ..Default::default()
    };
    let rows = p.proofing_query(&officer, &query)?;
    let mut lines: Vec<String> = rows
        .items
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.national_id,
                r.name,
                r.unit.clone().unwrap_or_default(),
                r.proofed_on.map(|day| d.date(day)).unwrap_or_default()
            )
        })
        .collect();
    lines.insert(
        0,
        d.t(
            &format!("查詢條件：校對日期 101/01/01 ~ {}、已校對、未處理", today),
            &format!(
                "query: proofed 2012-01-01 .. {}, proofed, not processed",
                today.to_iso()
            ),
        ),
    );
    let corrections = p.submission_corrections(&officer, submission.id)?;
    let mut processed = Vec::new();
    for c in &corrections {
        let done = p.process_correction(&officer, c.id, &CorrectionDecision::Approve)?;
        processed.push(done.clone());
        lines.push(d.t(
            &format!(
                "核准「{}」：{} → {}",
                done.label_zh,
                done.before.clone().unwrap_or_default(),
                done.after
            ),
            &format!(
                "approved the correction of {}: {} → {}",
                done.category.label(Lang::En),
                done.before.clone().unwrap_or_default(),
                done.after
            ),
        ));
    }
    let todos_left = p.officer_todos(&officer)?.len();
    lines.push(d.t(
        &format!("待辦事項剩 {todos_left} 筆"),
        &format!("{} left", d.count(todos_left, "", "to-do item", "to-do items")),
    ));
    d.step(
        "人事人員校對查詢與處理",
        "Officer: proofing query and processing",
        lines,
        serde_json::json!({ "rows": rows, "processed": processed, "todos_left": todos_left }),
    );

    let next = order(
        "A123456789",
        &today.to_slash(),
        "北市勞人字第1156000001號",
        AwardKind::Commendation,
        1,
        "協助校對作業",
    )?;
    p.issue_award_order(&officer, &next)?;
    let (_, newest) = d.deliver()?;
    let to = newest.to;
    d.step(
        "新獎勵令通知寄到更正後的信箱",
        "The next notice goes to the corrected address",
        vec![d.t(&format!("收件者：{to}"), &format!("to: {to}"))],
        serde_json::json!({ "to": to }),
    );

    let mut trail = p.audit_trail(&me, &AuditQuery::default())?;
    trail.truncate(8);
    let lines = trail
        .iter()
        .map(|e| {
            d.t(
                &format!("{} {}", e.at.to_slash(), e.summary_zh),
                &format!("{} {}", e.at.to_iso(), e.summary_en),
            )
        })
        .collect();
    d.step(
        "稽核紀錄：誰讀取或變更了我的資料",
        "Audit trail: who read or changed my data",
        lines,
        serde_json::json!({ "newest": trail }),
    );

    p.logout(&me)?;
    p.logout(&officer)?;
    let after = p.unviewed_award_orders(&me).err();
    let stats = p.outbox_stats()?;
    let mut lines = vec![d.t(
        &format!("已登出；共寄出 {} 封信，待寄 {} 封", stats.sent, stats.pending),
        &format!(
            "logged out; {} sent, {} waiting",
            d.count(stats.sent as usize, "", "mail", "mails"),
            stats.pending
        ),
    )];
    lines.extend(after.iter().map(|e| d.err(e)));
    d.step(
        "登出",
        "Log out",
        lines,
        serde_json::json!({ "outbox": stats, "after_logout": after.as_ref().map(err_json) }),
    );
    if after.as_ref().map(Error::code) != Some(ErrorCode::SessionInvalid) {
        return Err(Error::internal("a logged-out session still worked"));
    }
    Ok(())
}
