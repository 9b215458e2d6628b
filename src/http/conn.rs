//! What a connection may hold of the service: no longer than the idle timeout without a byte
//! either way, and no more than a cap of connections per client address.
//!
//! hyper's header-read timeout starts with a request's first byte, so a socket that never sends
//! one was kept open for ever: a thousand silent sockets held their file descriptors, and enough
//! of them kept every new client out. [`ConnectionGuard`] is the acceptor `ecpa serve` puts in
//! front of hyper (and of TLS): it refuses a client address's connection over the cap, and
//! wraps each stream in [`IdleStream`], which fails the next read or write once the idle time
//! has passed with no traffic. A request the service is still working on is the request
//! timeout's business, not this one's: while hyper waits for the handler it does not poll the
//! socket, so nothing fails. Written here because neither hyper nor axum-server has either
//! limit; the two are small and tested against a real `ecpa serve` (tests/serve_connections.rs).

use std::collections::HashMap;
use std::future::{Future, Ready, ready};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Open connections per client address, shared by the guard and every stream it let in.
type Counts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The acceptor of `ecpa serve` (see the module documentation).
#[derive(Clone)]
pub struct ConnectionGuard {
    idle: Duration,
    per_address: usize,
    counts: Counts,
}

impl ConnectionGuard {
    /// A guard closing connections idle for `idle` and letting in at most `per_address`
    /// connections from one address at a time.
    pub fn new(idle: Duration, per_address: usize) -> Self {
        ConnectionGuard {
            idle,
            per_address: per_address.max(1),
            counts: Arc::default(),
        }
    }
}

impl<S> axum_server::accept::Accept<TcpStream, S> for ConnectionGuard {
    type Stream = IdleStream;
    type Service = S;
    type Future = Ready<io::Result<(IdleStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        // Counted per network, as the rate limits are: an IPv6 host has a whole /64.
        let ip = match stream.peer_addr() {
            Ok(a) => crate::portal::guard::network_address(a.ip()),
            Err(e) => return ready(Err(e)),
        };
        {
            let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = counts.entry(ip).or_insert(0);
            if *n >= self.per_address {
                return ready(Err(io::Error::other("too many connections from this address")));
            }
            *n += 1;
        }
        ready(Ok((
            IdleStream {
                inner: stream,
                idle: self.idle,
                deadline: Box::pin(tokio::time::sleep(self.idle)),
                slot: Slot {
                    ip,
                    counts: self.counts.clone(),
                },
            },
            service,
        )))
    }
}

/// A connection's place in its address's count, given back when the connection ends.
struct Slot {
    ip: IpAddr,
    counts: Counts,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// A TCP stream that fails with `TimedOut` once it has been idle (no byte read or written) for
/// its idle time.
pub struct IdleStream {
    inner: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    slot: Slot,
}

impl IdleStream {
    /// Fails once the deadline has passed; otherwise registers the waker with it, so a socket
    /// that stays silent is woken, and failed, when its time is up.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(io::ErrorKind::TimedOut, "connection idle")),
            Poll::Pending => Ok(()),
        }
    }

    fn touched(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }
}

impl AsyncRead for IdleStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.touched();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl AsyncWrite for IdleStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.touched();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl std::fmt::Debug for IdleStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdleStream")
            .field("peer", &self.slot.ip)
            .field("idle", &self.idle)
            .finish()
    }
}
