//! The PC/SC rows: the smart-card service, the readers, the card in each and its kind, and
//! the NHI card's data.

use super::*;

pub(super) fn pcsc_fix_service() -> (String, String) {
    if cfg!(target_os = "linux") {
        (
            "安裝並啟動 PC/SC 服務：apt-get install pcscd（無 systemd 時執行 pcscd）".into(),
            "install and start the PC/SC service: apt-get install pcscd (without systemd, run pcscd)".into(),
        )
    } else if cfg!(windows) {
        (
            "將「Smart Card」(SCardSvr) 服務的啟動類型設為「自動」並啟動".into(),
            "set the \"Smart Card\" (SCardSvr) service to start automatically, and start it".into(),
        )
    } else {
        (
            "macOS 內建 PC/SC，請重新插拔讀卡機".into(),
            "macOS has PC/SC built in: unplug the reader and plug it in again".into(),
        )
    }
}

/// On Linux, whether pcscd's socket is there: a hint even when this build cannot talk PC/SC.
pub(super) fn pcscd_socket_hint() -> Bilingual {
    const SOCKET: &str = "/run/pcscd/pcscd.comm";
    if !cfg!(target_os = "linux") {
        return Bilingual::same("");
    }
    if Path::new(SOCKET).exists() {
        Bilingual::new(
            format!("（pcscd 執行中：{SOCKET}）"),
            format!(" (pcscd is running: {SOCKET})"),
        )
    } else {
        Bilingual::new(
            format!("（pcscd 未執行：沒有 {SOCKET}）"),
            format!(" (pcscd is not running: no {SOCKET})"),
        )
    }
}

/// The fix for a build without the `card` feature: PC/SC and PKCS#11 cannot be checked at all.
pub(super) fn rebuild_with_cards() -> Bilingual {
    Bilingual::new(
        "此版本的 ecpa 未含讀卡功能：請以 `cargo install --features card`（或 `cargo build --release --features card`）重新建置，須先安裝 libpcsclite-dev 與 pkgconf",
        "this ecpa was built without card support: rebuild with `--features card` (`cargo install --features card` or `cargo build --release --features card`), which needs libpcsclite-dev and pkgconf",
    )
}

pub(super) fn pcsc_rows(options: &DoctorOptions, probe: Arc<dyn ReaderProbe>, rows: &mut Vec<Row>) {
    let t = |zh: &str, en: &str| Bilingual::new(zh, en);
    let service_title = t("PC/SC 讀卡機服務", "PC/SC smart-card service");
    let readers_title = t("讀卡機", "card readers");
    let card_title = t("插入的卡片及種類", "card inserted and its kind");
    let nhi_title = t("健保卡可讀取", "NHI card readable");
    let not_checked =
        |why: &Bilingual| Bilingual::new(format!("未檢查：{}", why.zh), format!("not checked: {}", why.en));

    let timeout = options.timeout;
    let p = Arc::clone(&probe);
    // The probe gets the timeout too; the thread gives it a little longer before giving up.
    let readers = with_timeout(timeout + timeout / 2, move || p.readers(timeout));
    let readers = match readers {
        Ok(r) => r,
        Err(e) => {
            let fix = if e.code() == ErrorCode::CardSupportMissing {
                let (rebuild, daemon) = (rebuild_with_cards(), pcscd_socket_hint());
                Bilingual::new(rebuild.zh + &daemon.zh, rebuild.en + &daemon.en)
            } else {
                let (zh, en) = pcsc_fix_service();
                Bilingual::new(zh, en)
            };
            let status = Status::Fail;
            let found = found_error(&e);
            rows.push(Row {
                fix: Some(fix),
                ..row(
                    "pcsc.service",
                    service_title,
                    found.clone(),
                    t("服務執行中且可連線", "running and reachable"),
                    status,
                )
            });
            for (id, title) in [
                ("pcsc.readers", readers_title),
                ("card.present", card_title),
                ("nhi.readable", nhi_title),
            ] {
                rows.push(row(
                    id,
                    title,
                    not_checked(&found),
                    t("需先能連線 PC/SC 服務", "needs the PC/SC service"),
                    Status::Warn,
                ));
            }
            return;
        }
    };
    rows.push(row(
        "pcsc.service",
        service_title,
        t("服務執行中", "running"),
        t("服務執行中且可連線", "running and reachable"),
        Status::Ok,
    ));

    if readers.is_empty() {
        rows.push(
            row(
                "pcsc.readers",
                readers_title,
                t("沒有讀卡機", "no reader"),
                t("至少一台讀卡機", "at least one reader"),
                Status::Fail,
            )
            .fix(
                "連接讀卡機；若已連接，請安裝其驅動程式（Linux：apt-get install libccid）",
                "connect a reader; if it is connected, install its driver (Linux: apt-get install libccid)",
            ),
        );
    } else {
        let names: Vec<&str> = readers.iter().map(|r| r.name.as_str()).collect();
        rows.push(row(
            "pcsc.readers",
            readers_title,
            Bilingual::new(
                format!("{} 台：{}", readers.len(), names.join("、")),
                format!("{}: {}", readers.len(), names.join(", ")),
            ),
            t("至少一台讀卡機", "at least one reader"),
            Status::Ok,
        ));
    }

    let with_card: Vec<&ProbedReader> = readers.iter().filter(|r| r.kind != "empty").collect();
    let kind_zh = |k: &str| match k {
        "nhi" => "健保卡",
        "moica" => "自然人憑證",
        _ => "無法辨識的卡片",
    };
    if with_card.is_empty() {
        rows.push(
            row(
                "card.present",
                card_title,
                t("沒有插入卡片", "no card inserted"),
                t("健保卡或自然人憑證", "an NHI card or a citizen certificate card"),
                Status::Warn,
            )
            .fix(
                "請插入健保卡或自然人憑證",
                "insert the NHI card or the citizen certificate card",
            ),
        );
    } else {
        let zh: Vec<String> = with_card
            .iter()
            .map(|r| format!("{}：{}", r.name, kind_zh(&r.kind)))
            .collect();
        let en: Vec<String> = with_card.iter().map(|r| format!("{}: {}", r.name, r.kind)).collect();
        let known = with_card.iter().any(|r| r.kind == "nhi" || r.kind == "moica");
        let mut r = row(
            "card.present",
            card_title,
            Bilingual::new(zh.join("；"), en.join("; ")),
            t("健保卡或自然人憑證", "an NHI card or a citizen certificate card"),
            if known { Status::Ok } else { Status::Warn },
        );
        if !known {
            r = r.fix(
                "卡片無法辨識：請確認插入的是健保卡或自然人憑證，晶片朝上插入",
                "the card is not recognised: check it is an NHI or citizen card, chip side up",
            );
        }
        rows.push(r);
    }

    match readers.iter().find(|r| r.kind == "nhi") {
        None => rows.push(
            row(
                "nhi.readable",
                nhi_title,
                t("未插入健保卡", "no NHI card inserted"),
                t("可讀取健保卡基本資料", "the NHI card's basic data reads"),
                Status::Warn,
            )
            .fix("插入健保卡後再檢測", "insert the NHI card and check again"),
        ),
        Some(reader) => {
            let name = reader.name.clone();
            let p = Arc::clone(&probe);
            let read = with_timeout(timeout + timeout / 2, move || p.read_nhi(&name, timeout));
            rows.push(match read {
                Ok(summary) => row(
                    "nhi.readable",
                    nhi_title,
                    Bilingual::same(summary),
                    t("可讀取健保卡基本資料", "the NHI card's basic data reads"),
                    Status::Ok,
                ),
                Err(e) => {
                    let r = row(
                        "nhi.readable",
                        nhi_title,
                        found_error(&e),
                        t("可讀取健保卡基本資料", "the NHI card's basic data reads"),
                        Status::Fail,
                    );
                    if timed_out(&e) {
                        r.fix(
                            "讀卡逾時：關閉佔用讀卡機的程式（如健保卡元件 NHIICC），重新插卡",
                            "the read timed out: close programs holding the reader (such as the NHIICC component) and reinsert the card",
                        )
                    } else {
                        r.fix(
                            "重新插入健保卡；若仍失敗，卡片可能損壞，請洽健保署換卡",
                            "reinsert the NHI card; if it still fails the card may be damaged: ask NHIA for a new one",
                        )
                    }
                }
            });
        }
    }
}
