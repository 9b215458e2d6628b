//! The old vendor components ecpa replaces (the NHI card component, the HiPKI sign server),
//! found listening or not, and the card agent that replaces them for browsers (`ecpa agent`):
//! what answers at its port, 61161.

use super::*;

/// The rows for what replaces the old IE settings and ActiveX installs: the vendor components
/// ecpa does without.
pub(super) fn legacy_rows(timeout: Duration) -> Vec<Row> {
    let short = timeout.min(Duration::from_millis(500));
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
        Bilingual::new("不需要", "not needed"),
        Bilingual::new(
            "ecpa 自行以 PC/SC 讀取健保卡、以 PKCS#11 使用自然人憑證，不需 IE、ActiveX 或瀏覽器外掛",
            "ecpa reads the NHI card over PC/SC and uses the citizen card over PKCS#11 itself: no IE, ActiveX or browser add-on",
        ),
        Status::Ok,
    )];

    let at_port = with_timeout(timeout, move || Ok(probe_agent_port(short))).unwrap_or(AtAgentPort::Nothing);
    rows.push(agent_row(at_port));

    let title = Bilingual::new(
        "健保卡讀卡元件（iccert.nhi.gov.tw:7777）",
        "NHI card component (iccert.nhi.gov.tw:7777)",
    );
    let expected = Bilingual::new(
        "ecpa 不需要（網頁改由 ecpa agent 讀卡）；若安裝，名稱應指向本機",
        "not needed by ecpa (pages read the card through ecpa agent); if installed, the name must point at this machine",
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

/// What answers at the card agent's port.
#[derive(Debug, PartialEq, Eq)]
enum AtAgentPort {
    /// `ecpa agent`, with its version.
    Agent(String),
    /// The vendor's HiPKI local sign server, with the version it announces.
    Vendor(String),
    /// Something else.
    Other,
    /// Nothing listens.
    Nothing,
}

/// Asks `GET /` at 127.0.0.1:61161 (the version page both servers answer) and tells them apart.
fn probe_agent_port(timeout: Duration) -> AtAgentPort {
    use std::io::{Read, Write};
    let Some(addr) = listening("127.0.0.1", crate::card::AGENT_PORT, timeout) else {
        return AtAgentPort::Nothing;
    };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, timeout) else {
        return AtAgentPort::Nothing;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut page = Vec::new();
    if s.write_all(request.as_bytes()).is_err() || s.take(64 * 1024).read_to_end(&mut page).is_err() && page.is_empty()
    {
        return AtAgentPort::Other;
    }
    classify_agent_page(&String::from_utf8_lossy(&page))
}

/// Which server a version page came from.
fn classify_agent_page(page: &str) -> AtAgentPort {
    let word = |after: &str| -> Option<String> {
        let at = page.find(after)? + after.len();
        Some(
            page[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect(),
        )
    };
    if let Some(v) = word("ecpa agent ") {
        AtAgentPort::Agent(v)
    } else if let Some(v) = word("version:") {
        AtAgentPort::Vendor(v)
    } else {
        AtAgentPort::Other
    }
}

fn agent_row(found: AtAgentPort) -> Row {
    let title = Bilingual::new(
        "讀卡代理程式（ecpa agent，127.0.0.1:61161）",
        "Card agent (ecpa agent, 127.0.0.1:61161)",
    );
    let expected = Bilingual::new(
        "ecpa agent 執行中，網頁經由它使用讀卡機與自然人憑證",
        "ecpa agent running: pages reach the reader and the citizen card through it",
    );
    let start = (
        "以 `ecpa agent --print-service systemd > ~/.config/systemd/user/ecpa-agent.service` 產生使用者服務，再執行 `systemctl --user enable --now ecpa-agent`",
        "create the user service with `ecpa agent --print-service systemd > ~/.config/systemd/user/ecpa-agent.service`, then run `systemctl --user enable --now ecpa-agent`",
    );
    match found {
        AtAgentPort::Agent(v) => row(
            "agent.running",
            title,
            Bilingual::new(format!("ecpa agent {v} 執行中"), format!("ecpa agent {v} running")),
            expected,
            Status::Ok,
        ),
        AtAgentPort::Vendor(v) => row(
            "agent.running",
            title,
            Bilingual::new(
                format!("廠商 HiPKI 本機簽章服務 {v} 占用此連接埠"),
                format!("the vendor's HiPKI local sign server {v} holds the port"),
            ),
            expected,
            Status::Warn,
        )
        .fix(
            "停止廠商服務，或以 `ecpa agent --listen 127.0.0.1:61162` 在其他連接埠啟動",
            "stop the vendor's server, or start the agent on another port with `ecpa agent --listen 127.0.0.1:61162`",
        ),
        AtAgentPort::Other => row(
            "agent.running",
            title,
            Bilingual::new("其他程式占用此連接埠", "another program holds the port"),
            expected,
            Status::Warn,
        )
        .fix(
            "找出占用的程式（`ecpa agent` 會指出），或以 --listen 指定其他連接埠",
            "find the program holding it (`ecpa agent` names it), or pick another port with --listen",
        ),
        AtAgentPort::Nothing => row(
            "agent.running",
            title,
            Bilingual::new("未執行", "not running"),
            expected,
            Status::Warn,
        )
        .fix(start.0, start.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_pages_are_told_apart() {
        let ours = "<p>version:1.3.4.103349</p><p>ecpa agent 0.1.0</p>";
        assert_eq!(classify_agent_page(ours), AtAgentPort::Agent("0.1.0".into()));
        assert_eq!(
            classify_agent_page("HTTP/1.1 200 OK\r\n\r\nversion:1.3.4.3"),
            AtAgentPort::Vendor("1.3.4.3".into())
        );
        assert_eq!(classify_agent_page("HTTP/1.1 404 Not Found"), AtAgentPort::Other);
        assert_eq!(agent_row(AtAgentPort::Nothing).status, Status::Warn);
        assert_eq!(agent_row(AtAgentPort::Agent("0.1.0".into())).status, Status::Ok);
    }
}
