//! TLS to PostgreSQL, against a private server of the test's own with `ssl = on`, a server
//! certificate from the tests' private CA (made by the `openssl` command), `hostssl`-only
//! `pg_hba.conf` and SCRAM passwords: `verify-full` with the right CA connects (its SCRAM login
//! bound to the TLS session) and runs the flow; a wrong CA or a wrong host name is refused with
//! a typed error; `require` encrypts; `disable` is refused by the server.
//!
//! Skipped, with a message, where the PostgreSQL programs are not installed (scripts/test
//! installs them) or, as root, where the `ecpa-pg` user is missing.
#![cfg(feature = "http")]

mod support;

use std::path::Path;
use std::sync::Arc;

use ecpa::ErrorCode;
use ecpa::config::{DatabaseConfig, open_database};
use ecpa::portal::{FileMailer, LocalPortal, ManualClock, OsRandomness, Portal, ReceivedMail};
use ecpa::store::{SslMode, Store, StoreExt};
use ecpa::types::Lang;
use support::pg::PgServer;
use support::tls::private_ca;
use support::{START, Who, directory_csv, fast_config, form, person};

const PASSWORD: &str = "Tls#pg-2026";

/// A server that speaks TLS with `cert`/`key` and takes TCP logins only over TLS, with a
/// password; the Unix socket stays open (trust) for setting the password.
fn tls_server(cert: &Path, key: &Path) -> Option<PgServer> {
    PgServer::start_with(|data| {
        std::fs::copy(cert, data.join("server.crt")).expect("copy the certificate");
        std::fs::copy(key, data.join("server.key")).expect("copy the key");
        set_mode(&data.join("server.key"), 0o600);
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("pg_hba.conf");
        "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".to_owned()
    })
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `[database]` for the server at `host` (the name TLS checks), reached at 127.0.0.1.
fn database(server: &PgServer, host: &str, sslmode: SslMode, ca: Option<&Path>) -> DatabaseConfig {
    DatabaseConfig {
        url: format!(
            "postgres://postgres:{PASSWORD}@{host}:{}/postgres?hostaddr=127.0.0.1",
            server.port()
        ),
        sslmode: Some(sslmode),
        ca_file: ca.map(Path::to_path_buf),
        pool_size: 2,
    }
}

fn refused(db: &DatabaseConfig) -> ecpa::Error {
    match open_database(db) {
        Ok(_) => panic!("{db:?} connected"),
        Err(e) => e,
    }
}

/// Whether the store's connection is encrypted, and with which protocol, as the server sees it.
fn ssl_of(store: &dyn Store) -> (bool, Option<String>) {
    let row = store
        .read(|tx| tx.query_opt("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]))
        .expect("pg_stat_ssl")
        .expect("a row for this backend");
    (row.bool(0).expect("ssl"), row.opt_text(1).expect("version"))
}

#[test]
fn tls_to_postgresql_checks_what_sslmode_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_dir = dir.path().join("ca");
    let other_dir = dir.path().join("other");
    std::fs::create_dir_all(&ca_dir).expect("mkdir");
    std::fs::create_dir_all(&other_dir).expect("mkdir");
    let ca = private_ca(&ca_dir);
    let other = private_ca(&other_dir);
    let Some(server) = tls_server(&ca.cert, &ca.key) else {
        return;
    };
    let mut admin = postgres::Client::connect(&server.socket_url(), postgres::NoTls).expect("the Unix socket");
    admin
        .batch_execute(&format!("ALTER USER postgres PASSWORD '{PASSWORD}'"))
        .expect("password set");

    // verify-full with the right CA and host name: connected over TLS, and the SCRAM login
    // bound to the session (`channel_binding=require` fails without our end-point hash).
    let mut good = database(&server, "127.0.0.1", SslMode::VerifyFull, Some(&ca.ca));
    good.url.push_str("&channel_binding=require");
    let store = open_database(&good).expect("verify-full with the right CA connects");
    let (ssl, version) = ssl_of(store.as_ref());
    assert!(ssl, "the connection is encrypted");
    assert!(version.as_deref().is_some_and(|v| v.starts_with("TLS")), "{version:?}");

    // The flow's basic calls on it: the directory, a registration by mail, a login.
    let mail = FileMailer::new(dir.path().join("mail")).expect("maildir");
    let portal = LocalPortal::with_parts(
        store,
        fast_config(),
        Arc::new(ManualClock::new(START)),
        Arc::new(OsRandomness),
    )
    .expect("portal");
    portal
        .import_directory_csv(directory_csv().as_bytes())
        .expect("directory imported");
    let wang = person(Who::Wang);
    portal.start_nhi_registration(&form(Who::Wang)).expect("registration");
    portal.deliver_outbox(&mail, 10).expect("mail delivered");
    let token = read_link(&mail, &wang.reg_email);
    portal
        .confirm_nhi_registration(&wang.card_data(), &token)
        .expect("confirmed");
    let session = portal.login_nhi_card(&wang.card_data(), &wang.pw()).expect("login");
    assert_eq!(portal.session_info(&session.token).expect("session").name, wang.name);

    // The URL alone can say it, libpq's way.
    let url_only = DatabaseConfig {
        url: format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={}",
            server.port(),
            ca.ca.display()
        ),
        ..DatabaseConfig::default()
    };
    let store = open_database(&url_only).expect("sslmode and sslrootcert in the URL");
    assert!(ssl_of(store.as_ref()).0);

    // Another CA (of the same name, other key): refused, with the reason.
    let e = refused(&database(&server, "127.0.0.1", SslMode::VerifyFull, Some(&other.ca)));
    assert_eq!(e.code(), ErrorCode::StorageUnavailable, "{e}");
    let en = e.message(Lang::En);
    assert!(en.contains("TLS") && en.contains("invalid peer certificate"), "{en}");
    assert!(e.message(Lang::ZhTw).contains("TLS 加密連線失敗"), "{e}");
    // `require` with a CA file checks the chain too (libpq's rule once a root is given).
    let e = refused(&database(&server, "127.0.0.1", SslMode::Require, Some(&other.ca)));
    assert_eq!(e.code(), ErrorCode::StorageUnavailable, "{e}");

    // The right CA, but a name the certificate does not carry.
    let e = refused(&database(
        &server,
        "db.wrong.example",
        SslMode::VerifyFull,
        Some(&ca.ca),
    ));
    assert_eq!(e.code(), ErrorCode::StorageUnavailable, "{e}");
    assert!(e.message(Lang::En).contains("not valid for name"), "{e}");
    // `require` does not check the name: the chain is enough.
    let store = open_database(&database(&server, "db.wrong.example", SslMode::Require, Some(&ca.ca)))
        .expect("require with the CA checks the chain, not the name");
    assert!(ssl_of(store.as_ref()).0);
    // `require` without a CA encrypts and checks nothing.
    let store = open_database(&database(&server, "127.0.0.1", SslMode::Require, None)).expect("require alone");
    assert!(ssl_of(store.as_ref()).0);

    // Plain connections: pg_hba.conf has only `hostssl` lines, so the server refuses.
    let e = refused(&database(&server, "127.0.0.1", SslMode::Disable, None));
    assert_eq!(e.code(), ErrorCode::StorageUnavailable, "{e}");
    let en = e.message(Lang::En);
    assert!(en.contains("pg_hba.conf") && en.contains("no encryption"), "{en}");
    // The file's `disable` wins over the URL's `require`.
    let mut plain = database(&server, "127.0.0.1", SslMode::Disable, None);
    plain.url.push_str("&sslmode=require");
    assert_eq!(refused(&plain).code(), ErrorCode::StorageUnavailable);
    // No secret in what a failure says.
    assert!(!format!("{e} {e:?} {plain:?}").contains(PASSWORD));
}

/// The token of the link mailed to `to`.
fn read_link(mail: &FileMailer, to: &str) -> String {
    let dir = mail.dir().join("new");
    for entry in std::fs::read_dir(&dir).expect("maildir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("mail file");
        let m = ReceivedMail::parse(&bytes).expect("mail parses");
        if m.to == to
            && let Some(t) = m.link_token()
        {
            return t.to_owned();
        }
    }
    panic!("no link mailed to {to}");
}
