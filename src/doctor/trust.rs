//! The trust rows: the certificate anchors a certificate login is checked against, and the
//! clock every validity check depends on.

use super::*;

pub(super) fn anchors_row(dir: Option<&Path>) -> Row {
    let title = Bilingual::new("GRCA 信任錨點", "GRCA trust anchors");
    let expected = Bilingual::new(
        "可讀取的目錄，內含 GRCA 根憑證（G2／G3）",
        "a readable directory holding the GRCA root certificates (G2 / G3)",
    );
    let fix_zh = "自政府憑證管理中心（GRCA）網站下載根憑證，放入一個目錄，以 --anchors 指定";
    let fix_en = "download the root certificates from the GRCA site into a directory and give it with --anchors";
    let Some(dir) = dir else {
        return row(
            "anchors",
            title,
            Bilingual::new("未設定", "not configured"),
            expected,
            Status::Warn,
        )
        .fix(fix_zh, fix_en);
    };
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return row(
                "anchors",
                title,
                Bilingual::new(
                    format!("{shown}：無法讀取（{e}）"),
                    format!("{shown}: cannot read ({e})"),
                ),
                expected,
                Status::Fail,
            )
            .fix(fix_zh, fix_en);
        }
    };
    let mut roots = Vec::new();
    let mut others = 0usize;
    let mut bad = Vec::new();
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        match std::fs::read(f)
            .map_err(Error::from)
            .and_then(|b| Certificate::parse_all(&b))
        {
            Ok(certs) if !certs.is_empty() => {
                for c in certs {
                    if c.is_self_issued() {
                        roots.push(c.subject());
                    } else {
                        others += 1;
                    }
                }
            }
            _ => bad.push(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        }
    }
    let mut zh = format!("{shown}：{} 張根憑證", roots.len());
    let mut en = format!("{shown}: {} root certificate(s)", roots.len());
    if !roots.is_empty() {
        roots.sort();
        roots.dedup();
        zh += &format!("（{}）", roots.join("；"));
        en += &format!(" ({})", roots.join("; "));
    }
    if others > 0 {
        zh += &format!("，另有 {others} 張非自簽憑證");
        en += &format!(", and {others} certificate(s) not self-issued");
    }
    if !bad.is_empty() {
        zh += &format!("，無法解析的檔案：{}", bad.join("、"));
        en += &format!(", files that do not parse: {}", bad.join(", "));
    }
    let found = Bilingual::new(zh, en);
    if roots.is_empty() {
        row("anchors", title, found, expected, Status::Fail).fix(fix_zh, fix_en)
    } else if !bad.is_empty() {
        row("anchors", title, found, expected, Status::Warn).fix(
            "移除或更正無法解析的檔案（應為 PEM 或 DER 憑證）",
            "remove or correct the files that do not parse (PEM or DER certificates expected)",
        )
    } else {
        row("anchors", title, found, expected, Status::Ok)
    }
}

/// The earliest plausible "now": when this check was written. A clock before it makes every
/// certificate look not yet valid.
pub(super) const CLOCK_FLOOR: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

pub(super) fn clock_row(now: OffsetDateTime) -> Row {
    let title = Bilingual::new("系統時間", "system clock");
    let expected = Bilingual::new(
        "正確的目前時間（2026 年以後）",
        "the correct current time (2026 or later)",
    );
    let found = Bilingual::same(
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    if now < CLOCK_FLOOR || now.year() >= 2100 {
        row("clock", title, found, expected, Status::Fail).fix(
            "校正電腦時間（啟用網路校時）：時間錯誤會使憑證被判為未生效或已逾期",
            "set the computer's clock (enable network time): a wrong clock makes certificates look not yet valid or expired",
        )
    } else {
        row("clock", title, found, expected, Status::Ok)
    }
}
