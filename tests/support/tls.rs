//! A private certificate authority and a server certificate for `127.0.0.1` and `localhost`,
//! made by Debian's `openssl` command (so the TLS tests use certificates from outside the
//! project), for the HTTPS service and the SMTP server of the tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a private CA and the server certificate it issued.
pub struct PrivateCa {
    /// The CA's certificate (PEM): what a client is told to trust.
    pub ca: PathBuf,
    /// The server's certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM, PKCS#8).
    pub key: PathBuf,
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command (scripts/test installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes the CA and the server certificate in `dir`.
pub fn private_ca(dir: &Path) -> PrivateCa {
    let p = |name: &str| dir.join(name);
    let s = |path: &PathBuf| path.to_str().expect("UTF-8 temp path").to_owned();
    let (ca, ca_key, csr, cert, key, ext) = (
        p("ca.pem"),
        p("ca.key"),
        p("leaf.csr"),
        p("cert.pem"),
        p("key.pem"),
        p("leaf.ext"),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=ecpa test CA",
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &s(&key),
        "-out",
        &s(&csr),
    ]);
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("extensions file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        &s(&csr),
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &s(&ext),
        "-out",
        &s(&cert),
    ]);
    PrivateCa { ca, cert, key }
}
