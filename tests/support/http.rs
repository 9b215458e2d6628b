//! The fixture over HTTP: the same SQLite file and clock as [`Fixture`], served by a real
//! `ecpa::http` server on loopback, with a [`RemotePortal`] talking to it.

use std::sync::Arc;

use ecpa::config::ServerConfig;
use ecpa::http::{RemotePortal, RunningServer};
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, Signer, SoftwareKey, TrustAnchor};
use ecpa::portal::{
    CertificateResponse, CertificateTrust, LocalPortal, LoginSignature, Portal, PortalConfig, SessionToken,
};

use super::{Fixture, Who, fast_config, open_portal_url, person};

/// Server settings for tests: an ephemeral port and rate limits no test meets by accident.
pub fn test_server_config() -> ServerConfig {
    let mut s = ServerConfig {
        listen: "127.0.0.1:0".into(),
        worker_threads: Some(2),
        ..ServerConfig::default()
    };
    s.rate_limit.login_per_minute = 100_000;
    s.rate_limit.login_burst = 10_000;
    s.rate_limit.registration_per_minute = 100_000;
    s.rate_limit.registration_burst = 10_000;
    s
}

/// A portal served over HTTP.
pub struct HttpFixture {
    /// The embedded fixture on the same database (directory import, mail delivery, SQL checks).
    pub fx: Fixture,
    /// The engine the server runs.
    pub portal: Arc<LocalPortal>,
    /// The running server.
    pub server: RunningServer,
    /// The client.
    pub remote: RemotePortal,
    /// The test PKI whose root the server trusts for certificate logins.
    pub pki: TestPki,
}

impl HttpFixture {
    /// The fixture's directory, served with the test settings.
    pub fn new() -> HttpFixture {
        HttpFixture::with(fast_config(), test_server_config())
    }

    /// With chosen engine and server settings.
    pub fn with(config: PortalConfig, server: ServerConfig) -> HttpFixture {
        let fx = Fixture::with_config(config.clone());
        let pki = TestPki::new().expect("test PKI");
        let trust = CertificateTrust::new(vec![TrustAnchor::new(pki.root.clone())])
            .with_intermediates([pki.intermediate.clone()]);
        let portal = Arc::new(
            open_portal_url(&fx.url, config, fx.clock.clone())
                .expect("portal")
                .with_certificate_trust(trust),
        );
        let server = ecpa::http::start(portal.clone(), &server).expect("server starts");
        let remote = RemotePortal::new(&server.url()).expect("client");
        HttpFixture {
            fx,
            portal,
            server,
            remote,
            pki,
        }
    }

    /// Registers `who`'s NHI card over HTTP, reading the link from the delivered mail.
    pub fn register(&self, who: Who) {
        let p = person(who);
        self.remote
            .start_nhi_registration(&self.fx.form(who))
            .unwrap_or_else(|e| panic!("{who:?} registers: {e}"));
        let token = self.fx.link_to(&self.fx.mailbox_of(who));
        self.remote
            .confirm_nhi_registration(&p.card_data(), &token)
            .unwrap_or_else(|e| panic!("{who:?} confirms: {e}"));
    }

    /// Logs `who` in over HTTP with the NHI card.
    pub fn login(&self, who: Who) -> SessionToken {
        let p = person(who);
        self.remote
            .login_nhi_card(&p.card_data(), &p.pw())
            .unwrap_or_else(|e| panic!("{who:?} logs in: {e}"))
            .token
    }

    /// Registers, logs in and consents, over HTTP.
    pub fn ready(&self, who: Who) -> SessionToken {
        self.register(who);
        let s = self.login(who);
        let text = self.remote.consent_text().expect("consent text");
        self.remote.give_consent(&s, &text.version).expect("consent");
        s
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A citizen certificate of the fixture's PKI in `who`'s name and last four ID digits,
    /// with its key: what their own card holds.
    pub fn citizen_certificate(&self, who: Who) -> (Certificate, SoftwareKey) {
        let p = person(who);
        self.pki
            .issue(&EndEntitySpec::citizen(
                p.name,
                format!("{:0>16}", p.id.last_four()),
                Some(p.id.last_four()),
            ))
            .expect("certificate")
    }

    /// A fresh challenge from the server, signed with `key` as the card would: the answer to
    /// send, naming `identify` for a first login.
    pub fn certificate_answer(
        &self,
        cert: &Certificate,
        key: &SoftwareKey,
        identify: Option<&str>,
    ) -> CertificateResponse {
        let c = self.remote.begin_certificate_login().expect("challenge");
        CertificateResponse {
            challenge_id: c.challenge_id.clone(),
            certificate: cert.der().to_vec(),
            signature: LoginSignature::RawPkcs1(key.sign(c.to_sign.as_bytes()).expect("signs")),
            identify: identify.map(str::to_owned),
        }
    }
}
