//! TLS to PostgreSQL: the `postgres` driver's connector trait ([`MakeTlsConnect`]) over
//! rustls with the crate's one crypto provider (aws-lc-rs), and the certificate checks each
//! `sslmode` asks for.
//!
//! The adapter is ours rather than a published crate's: `tokio-postgres-rustls` decodes the
//! server certificate with `x509-cert 0.2` and `postgres_rustls` hashes it with `sha2 0.10`, each
//! a second generation of the RustCrypto formats beside the crate's `x509-cert 0.3`/`sha2 0.11`.
//! What it does is small: wrap the socket in a rustls client stream, and hand the driver the
//! `tls-server-end-point` channel binding (the hash of the server certificate, RFC 5929), so a
//! SCRAM login is bound to this TLS session and a man in the middle holding some other valid
//! certificate cannot relay it.
//!
//! One certificate verifier serves every mode ([`ServerCheck`]): no check at all
//! (`sslmode = "require"` without a CA file: encrypted, as libpq does), the chain to the given
//! CA (`require` with a CA file, as libpq does once a root certificate is given), or the chain
//! and the host name (`verify-full`). The TLS handshake signatures are always verified.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256, Sha384, Sha512};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the client checks of the server's certificate.
#[derive(Debug, Clone)]
pub enum ServerCheck {
    /// Nothing: the connection is encrypted, but anyone on the path could answer
    /// (`sslmode = "require"` without a CA file).
    None,
    /// That the certificate chains to one of these CAs, whatever name it carries
    /// (`require` with a CA file).
    Chain(Arc<RootCertStore>),
    /// That it chains to one of these CAs and names the host connected to (`verify-full`).
    ChainAndName(Arc<RootCertStore>),
}

/// The connector the pool hands to [`postgres::Config::connect`]: a rustls client
/// configuration shared by every connection of a store.
#[derive(Clone)]
pub struct RustlsConnector {
    config: Arc<ClientConfig>,
}

impl fmt::Debug for RustlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustlsConnector").finish_non_exhaustive()
    }
}

impl RustlsConnector {
    /// A connector that checks what `check` says, with TLS 1.2 and 1.3 from aws-lc-rs.
    pub fn new(check: ServerCheck) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(Verifier {
            check,
            provider: provider.clone(),
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(RustlsConnector {
            config: Arc::new(config),
        })
    }
}

/// The certificate checks of [`ServerCheck`], with rustls's own chain and name validation.
#[derive(Debug)]
struct Verifier {
    check: ServerCheck,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (roots, name) = match &self.check {
            ServerCheck::None => return Ok(ServerCertVerified::assertion()),
            ServerCheck::Chain(roots) => (roots, false),
            ServerCheck::ChainAndName(roots) => (roots, true),
        };
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if name {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Why the TLS session could not be set up: the driver wraps it, and
/// [`super::postgres`] finds it again to say so in the error.
#[derive(Debug)]
pub struct TlsFailure(pub String);

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

impl TlsFailure {
    fn from_io(e: &io::Error) -> Self {
        // rustls reports a refused certificate as an I/O error wrapping its own.
        match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            Some(tls) => TlsFailure(tls.to_string()),
            None => TlsFailure(e.to_string()),
        }
    }
}

impl<S> MakeTlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = Connect;
    type Error = TlsFailure;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, TlsFailure> {
        let name = ServerName::try_from(domain.to_owned())
            .map_err(|e| TlsFailure(format!("{domain:?} is not a host name or address for TLS: {e}")))?;
        Ok(Connect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name,
        })
    }
}

/// One connection's handshake, for one host.
pub struct Connect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = TlsFailure;
    type Future = Handshake<S>;

    fn connect(self, stream: S) -> Handshake<S> {
        Handshake(self.connector.connect(self.name, stream))
    }
}

/// The handshake in flight.
pub struct Handshake<S>(tokio_rustls::Connect<S>);

impl<S> Future for Handshake<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Output = Result<RustlsStream<S>, TlsFailure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.map(RustlsStream).map_err(|e| TlsFailure::from_io(&e)))
    }
}

/// A connection inside its TLS session.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S> TlsStream for RustlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(<[_]>::first)
            .and_then(|cert| server_end_point(cert.as_ref()))
            .map_or_else(ChannelBinding::none, ChannelBinding::tls_server_end_point)
    }
}

/// RFC 5929's `tls-server-end-point`: the certificate hashed with its signature's hash (SHA-256
/// for MD5 and SHA-1). `None` where the signature names no single hash (RSA-PSS, EdDSA): the
/// login then goes without channel binding, as libpq's does.
fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let alg: ObjectIdentifier = cert.signature_algorithm().oid;
    let digest = match alg {
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION
        | rfc5912::SHA_256_WITH_RSA_ENCRYPTION
        | rfc5912::ECDSA_WITH_SHA_256
        | rfc5912::ID_SHA_1
        | rfc5912::ID_SHA_256 => Sha256::digest(der).to_vec(),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_384 | rfc5912::ID_SHA_384 => {
            Sha384::digest(der).to_vec()
        }
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_512 | rfc5912::ID_SHA_512 => {
            Sha512::digest(der).to_vec()
        }
        _ => return None,
    };
    Some(digest)
}

impl<S> AsyncRead for RustlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S> AsyncWrite for RustlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_point_hash_follows_the_signature_hash() {
        let pki = crate::pki::testpki::TestPki::new().expect("test PKI");
        let der = pki.root.der();
        let hash = server_end_point(der).expect("an RSA SHA-256 certificate has a binding");
        assert_eq!(hash, Sha256::digest(der).to_vec());
        assert_eq!(server_end_point(b"not a certificate"), None);
    }
}
