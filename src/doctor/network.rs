//! The network row: whether the portal answers, over plain TCP and TLS.

use super::*;

/// An `http://` or `https://` URL's host, port and path.
pub(super) fn split_url(url: &str) -> Option<(bool, String, u16, String)> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h.to_owned(), port),
            Err(_) => return None,
        },
        _ => (authority.to_owned(), if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    if host.is_empty() {
        return None;
    }
    Some((tls, host, port, path))
}

/// Connects (and, for plain HTTP, sends a GET and reads the status line) within `timeout`.
pub(super) fn reach(url: &str, timeout: Duration) -> Result<String> {
    let bad = || {
        Error::with(
            ErrorCode::FieldInvalid,
            format!("網址格式錯誤：{url}"),
            format!("malformed URL: {url}"),
        )
    };
    let (tls, host, port, path) = split_url(url).ok_or_else(bad)?;
    let addr = (host.as_str(), port).to_socket_addrs()?.next().ok_or_else(|| {
        Error::with(
            ErrorCode::IoFailed,
            format!("{host} 無法解析"),
            format!("{host} does not resolve"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    if tls {
        return Ok(format!("TCP {addr} OK (TLS not checked)"));
    }
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // One write: a server that answers and closes early must not see a request in pieces.
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ecpa-doctor\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 256];
    let n = stream.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if !line.starts_with("HTTP/") {
        return Err(Error::with(
            ErrorCode::IoFailed,
            "回應不是 HTTP",
            "the answer is not HTTP",
        ));
    }
    Ok(format!("{addr}: {line}"))
}

pub(super) fn portal_row(url: &str, timeout: Duration) -> Row {
    let title = Bilingual::new("人事服務網連線", "portal reachable");
    let expected = Bilingual::new(format!("可連線至 {url}"), format!("{url} answers"));
    let owned = url.to_owned();
    match with_timeout(timeout + timeout / 2, move || reach(&owned, timeout)) {
        Ok(status) => {
            let server_error = status.contains(" 5") && status.split(' ').nth(2).is_some_and(|c| c.starts_with('5'));
            let r = row(
                "portal",
                title,
                Bilingual::same(status),
                expected,
                if server_error { Status::Warn } else { Status::Ok },
            );
            if server_error {
                r.fix(
                    "伺服器回應錯誤：請稍後再試或洽系統管理者",
                    "the server answered with an error: try later or ask its operator",
                )
            } else {
                r
            }
        }
        Err(e) => row("portal", title, found_error(&e), expected, Status::Fail).fix(
            "檢查網址、網路連線、防火牆或代理伺服器設定",
            "check the URL, the network connection, the firewall or the proxy settings",
        ),
    }
}

/// Whether something accepts TCP connections at `addr` within `timeout`.
pub(super) fn listening(host: &str, port: u16, timeout: Duration) -> Option<std::net::SocketAddr> {
    let addr = (host, port).to_socket_addrs().ok()?.next()?;
    TcpStream::connect_timeout(&addr, timeout).ok().map(|_| addr)
}
