//! The citizen card's rows: the PKCS#11 module, its token and the signing certificate with its
//! validity.

use super::*;

/// What the PKCS#11 probe found, gathered on the probe thread.
#[cfg(feature = "card")]
pub(super) struct TokenFindings {
    module: crate::card::pkcs11::ModuleInfo,
    tokens: Vec<String>,
    certificate: Option<Result<Certificate>>,
}

#[cfg(feature = "card")]
pub(super) fn probe_pkcs11(path: PathBuf) -> Result<TokenFindings> {
    use crate::card::pkcs11::Pkcs11Module;
    let module = Pkcs11Module::load(&path)?;
    let info = module.info()?;
    let tokens = module.tokens()?;
    let names = tokens
        .iter()
        .map(|t| {
            if t.serial.is_empty() {
                t.label.clone()
            } else {
                format!("{} ({})", t.label, t.serial)
            }
        })
        .collect();
    // The first token with a signing certificate (a reader may also hold another card).
    let mut certificate = None;
    for t in &tokens {
        match module.signing_certificate(t) {
            Ok(c) => {
                certificate = Some(Ok(c.certificate));
                break;
            }
            Err(e) if certificate.is_none() => certificate = Some(Err(e)),
            Err(_) => {}
        }
    }
    Ok(TokenFindings {
        module: info,
        tokens: names,
        certificate,
    })
}

#[cfg(feature = "card")]
pub(super) fn pkcs11_rows(options: &DoctorOptions, rows: &mut Vec<Row>) {
    use crate::card::pkcs11::resolve_module_path;
    let t = |zh: &str, en: &str| Bilingual::new(zh, en);
    let module_title = t("自然人憑證 PKCS#11 模組", "citizen card PKCS#11 module");
    let token_title = t("憑證卡（token）", "card token");
    let cert_title = t("簽章用憑證及效期", "signing certificate and its validity");
    let expected_module = t(
        "HiCOS 或其他 PKCS#11 模組存在且可載入",
        "HiCOS or another PKCS#11 module present and loadable",
    );
    let hicos_fix = || {
        (
            format!(
                "安裝內政部憑證管理中心的 HiCOS 卡片管理工具（{HICOS_DOWNLOAD} 下載專區），或以 --pkcs11-module 指定模組路徑"
            ),
            format!(
                "install the HiCOS card tool from the MOICA site ({HICOS_DOWNLOAD}, downloads), or give the module with --pkcs11-module"
            ),
        )
    };
    // The module row failed with `e`: the token and certificate rows are not checked.
    let module_failed = |rows: &mut Vec<Row>, e: &Error, (zh, en): (String, String)| {
        let why = found_error(e);
        rows.push(
            row(
                "pkcs11.module",
                module_title.clone(),
                why.clone(),
                expected_module.clone(),
                Status::Fail,
            )
            .fix(zh, en),
        );
        for (id, title) in [
            ("pkcs11.token", token_title.clone()),
            ("pkcs11.certificate", cert_title.clone()),
        ] {
            rows.push(row(
                id,
                title,
                Bilingual::new(format!("未檢查：{}", why.zh), format!("not checked: {}", why.en)),
                t("需先載入 PKCS#11 模組", "needs the PKCS#11 module"),
                Status::Warn,
            ));
        }
    };

    let path = match resolve_module_path(options.pkcs11_module.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            module_failed(rows, &e, hicos_fix());
            return;
        }
    };
    let shown = path.display().to_string();
    let findings = with_timeout(options.timeout, move || probe_pkcs11(path));
    let findings = match findings {
        Ok(f) => f,
        Err(e) => {
            let fix = match e.code() {
                ErrorCode::Pkcs11ModuleNotFound => hicos_fix(),
                ErrorCode::DoctorProbeTimedOut => (
                    "模組載入逾時：拔除再插入讀卡機，或重新安裝 HiCOS".into(),
                    "loading the module timed out: replug the reader or reinstall HiCOS".into(),
                ),
                _ => (
                    format!("{shown} 不是可用的 PKCS#11 模組：請重新安裝 HiCOS（64 位元版本須與 ecpa 相符）"),
                    format!(
                        "{shown} is not a usable PKCS#11 module: reinstall HiCOS (its 32/64-bit kind must match ecpa)"
                    ),
                ),
            };
            module_failed(rows, &e, fix);
            return;
        }
    };
    let m = &findings.module;
    rows.push(row(
        "pkcs11.module",
        module_title,
        Bilingual::same(format!(
            "{} — {} {} {}",
            m.path.display(),
            m.manufacturer,
            m.description,
            m.version
        )),
        expected_module,
        Status::Ok,
    ));

    if findings.tokens.is_empty() {
        rows.push(
            row(
                "pkcs11.token",
                token_title,
                t("沒有憑證卡", "no token"),
                t("插入一張自然人憑證", "one citizen card inserted"),
                Status::Fail,
            )
            .fix(
                "插入自然人憑證；若已插入，請確認讀卡機可用（見 PC/SC 項目）",
                "insert the citizen card; if it is in, check the reader (see the PC/SC rows)",
            ),
        );
    } else {
        rows.push(row(
            "pkcs11.token",
            token_title,
            Bilingual::same(findings.tokens.join(", ")),
            t("插入一張自然人憑證", "one citizen card inserted"),
            Status::Ok,
        ));
    }

    let expected_cert = t(
        "簽章用憑證（digitalSignature／nonRepudiation）在效期內",
        "a signing certificate (digitalSignature / nonRepudiation) within its validity",
    );
    rows.push(match findings.certificate {
        None => row(
            "pkcs11.certificate",
            cert_title,
            t("未檢查：沒有憑證卡", "not checked: no token"),
            expected_cert,
            Status::Warn,
        ),
        Some(Err(e)) => row("pkcs11.certificate", cert_title, found_error(&e), expected_cert, Status::Fail).fix(
            "此卡沒有簽章用憑證：請確認插入的是自然人憑證，或至戶政事務所辦理",
            "this card has no signing certificate: check it is the citizen card, or apply at a household registration office",
        ),
        Some(Ok(cert)) => certificate_row(cert_title, expected_cert, &cert, OffsetDateTime::now_utc()),
    });
}

#[cfg(not(feature = "card"))]
pub(super) fn pkcs11_rows(_options: &DoctorOptions, rows: &mut Vec<Row>) {
    let t = |zh: &str, en: &str| Bilingual::new(zh, en);
    let missing = found_error(&Error::new(ErrorCode::CardSupportMissing));
    rows.push(Row {
        fix: Some(rebuild_with_cards()),
        ..row(
            "pkcs11.module",
            t("自然人憑證 PKCS#11 模組", "citizen card PKCS#11 module"),
            missing.clone(),
            t(
                "含 card 功能的 ecpa 與可載入的 PKCS#11 模組",
                "ecpa with the card feature and a loadable PKCS#11 module",
            ),
            Status::Fail,
        )
    });
    for (id, title) in [
        ("pkcs11.token", t("憑證卡（token）", "card token")),
        (
            "pkcs11.certificate",
            t("簽章用憑證及效期", "signing certificate and its validity"),
        ),
    ] {
        rows.push(row(
            id,
            title,
            Bilingual::new(
                format!("未檢查：{}", missing.zh),
                format!("not checked: {}", missing.en),
            ),
            t("需先載入 PKCS#11 模組", "needs the PKCS#11 module"),
            Status::Warn,
        ));
    }
}

#[cfg(feature = "card")]
/// The signing certificate's validity at `now`: fail outside it, warn within 30 days of its end.
pub(super) fn certificate_row(title: Bilingual, expected: Bilingual, cert: &Certificate, now: OffsetDateTime) -> Row {
    let (Ok(from), Ok(until)) = (cert.not_before(), cert.not_after()) else {
        return row(
            "pkcs11.certificate",
            title,
            Bilingual::new("憑證效期無法讀取", "the validity does not read"),
            expected,
            Status::Fail,
        );
    };
    let date = |t: OffsetDateTime| t.date().to_string();
    let found = Bilingual::new(
        format!("{}，有效期間 {} 至 {}", cert.subject(), date(from), date(until)),
        format!("{}, valid {} to {}", cert.subject(), date(from), date(until)),
    );
    if now < from {
        row("pkcs11.certificate", title, found, expected, Status::Fail).fix(
            "憑證尚未生效：請檢查電腦時間",
            "the certificate is not yet valid: check the computer's clock",
        )
    } else if now > until {
        row("pkcs11.certificate", title, found, expected, Status::Fail).fix(
            "憑證已逾期：請至戶政事務所或線上辦理展期或換發",
            "the certificate has expired: renew it online or at a household registration office",
        )
    } else if until - now < time::Duration::days(30) {
        row("pkcs11.certificate", title, found, expected, Status::Warn).fix(
            "憑證將於 30 天內到期：請盡早辦理展期",
            "the certificate expires within 30 days: renew it soon",
        )
    } else {
        row("pkcs11.certificate", title, found, expected, Status::Ok)
    }
}
