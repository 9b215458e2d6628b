//! The old vendor components ecpa replaces (the NHI card component, the HiPKI sign server):
//! found listening or not, and what replaces them.

use super::*;

/// The rows for what replaces the old IE settings and ActiveX installs: the vendor components
/// ecpa does without.
pub(super) fn legacy_rows(timeout: Duration) -> Vec<Row> {
    let short = timeout.min(Duration::from_millis(500));
    let hipki = with_timeout(timeout, move || Ok(listening("127.0.0.1", 61161, short))).unwrap_or(None);
    let nhi = with_timeout(timeout, move || {
        let resolved = ("iccert.nhi.gov.tw", 7777u16)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next());
        let open = resolved.and_then(|a| TcpStream::connect_timeout(&a, short).ok().map(|_| a));
        Ok((resolved, open))
    });

    let mut rows = vec![row(
        "legacy.ie_activex",
        Bilingual::new(
            "IE 設定與 ActiveX 元件",
            "Internet Explorer settings and ActiveX controls",
        ),
        Bilingual::new(
            format!(
                "不需要；HiPKI 本機簽章服務（127.0.0.1:61161）：{}",
                if hipki.is_some() { "執行中" } else { "未執行" }
            ),
            format!(
                "not needed; HiPKI local sign server (127.0.0.1:61161): {}",
                if hipki.is_some() { "running" } else { "not running" }
            ),
        ),
        Bilingual::new(
            "ecpa 自行以 PC/SC 讀取健保卡、以 PKCS#11 使用自然人憑證，不需 IE、ActiveX 或瀏覽器外掛",
            "ecpa reads the NHI card over PC/SC and uses the citizen card over PKCS#11 itself: no IE, ActiveX or browser add-on",
        ),
        Status::Ok,
    )];

    let title = Bilingual::new(
        "健保卡讀卡元件（iccert.nhi.gov.tw:7777）",
        "NHI card component (iccert.nhi.gov.tw:7777)",
    );
    let expected = Bilingual::new(
        "ecpa 不需要；若安裝，名稱應指向本機",
        "not needed by ecpa; if installed, the name must point at this machine",
    );
    rows.push(match nhi {
        Ok((None, _)) | Err(_) => row(
            "legacy.nhi_component",
            title,
            Bilingual::new("未安裝（名稱無法解析）", "not installed (the name does not resolve)"),
            expected,
            Status::Ok,
        ),
        Ok((Some(addr), _)) if !addr.ip().is_loopback() => row(
            "legacy.nhi_component",
            title,
            Bilingual::new(format!("名稱指向 {addr}，不是本機"), format!("the name points at {addr}, not this machine")),
            expected,
            Status::Warn,
        )
        .fix(
            "若要使用舊元件，hosts 檔應將 iccert.nhi.gov.tw 指向 127.0.0.1；使用 ecpa 則不需要",
            "for the old component the hosts file must point iccert.nhi.gov.tw at 127.0.0.1; ecpa does not need it",
        ),
        Ok((Some(addr), None)) => row(
            "legacy.nhi_component",
            title,
            Bilingual::new(format!("名稱指向 {addr}，元件未執行"), format!("the name points at {addr}; the component is not running")),
            expected,
            Status::Ok,
        ),
        Ok((Some(addr), Some(_))) => row(
            "legacy.nhi_component",
            title,
            Bilingual::new(format!("元件執行中（{addr}）"), format!("the component is running ({addr})")),
            expected,
            Status::Warn,
        )
        .fix(
            "使用 ecpa 時請關閉此元件：它會獨佔讀卡機，且預設在所有網路介面上監聽",
            "stop it while using ecpa: it holds the reader exclusively and, as shipped, listens on every network interface",
        ),
    });
    rows
}
