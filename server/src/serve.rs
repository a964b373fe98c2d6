//! Serving HTTP connections with limits, so slow or idle clients cannot hold the server: a
//! client has `header_read_timeout` to send a request's headers (which also closes keep-alive
//! connections left idle that long), a connection with no byte in either direction for
//! `idle_timeout` is closed (event streams send a keep-alive comment every 15 s, well inside
//! it), and at most `max_connections` are open at once (more wait in the listen queue).

use crate::config::ConnectionLimits;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Headers a request may carry before hyper itself refuses it (431 without a body); the
/// router's own, stricter limit answers in the API's error shape below this.
const HYPER_MAX_HEADERS: usize = 500;

/// How long connections get to finish after a shutdown signal (event streams never do).
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish
/// (for at most a few seconds).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: &ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop, stopping) = watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout))
        .max_headers(HYPER_MAX_HEADERS);
    let idle = Duration::from_secs(limits.idle_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            tls: tls.clone(),
            handshake: Duration::from_secs(limits.header_read_timeout),
            peer,
            idle,
            stopping: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(permit);
        });
    }
    let _ = stop.send(true);
    drop(listener);
    let open = limits.max_connections as usize - permits.available_permits();
    if open > 0 {
        tracing::info!(open, "waiting for open connections to finish");
    }
    let all = permits.acquire_many(limits.max_connections);
    let _ = tokio::time::timeout(DRAIN, all).await;
}

struct Connection {
    builder: http1::Builder,
    router: Router,
    /// Set when serving HTTPS (`--tls-cert`); the handshake must finish within `handshake`.
    tls: Option<tokio_rustls::TlsAcceptor>,
    handshake: Duration,
    /// Who connected: sign-in limits and the audit trail name the address.
    peer: std::net::SocketAddr,
    idle: Duration,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let activity = Activity::new();
        let watched = Watched {
            inner: stream,
            activity: activity.clone(),
        };
        let Some(acceptor) = self.tls.clone() else {
            return self.serve(watched, activity, false).await;
        };
        // A client that cannot or will not speak TLS in time gets nothing: it is dropped.
        let handshake = tokio::time::timeout(self.handshake, acceptor.accept(watched));
        if let Ok(Ok(tls)) = handshake.await {
            self.serve(tls, activity, true).await;
        }
    }

    async fn serve<I>(mut self, io: I, activity: Activity, over_tls: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = axum::extract::ConnectInfo(self.peer);
        let service = TowerToHyperService::new(self.router.map_request(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(peer);
                if over_tls {
                    request.extensions_mut().insert(crate::tls::OverTls);
                }
                request
            },
        ));
        let serving = self.builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(serving);
        let mut draining = false;
        loop {
            let deadline = activity.last() + self.idle;
            tokio::select! {
                _ = serving.as_mut() => return,
                () = tokio::time::sleep_until(deadline.into()) => {
                    if activity.last() + self.idle <= Instant::now() {
                        // Silent for the whole idle timeout: dropping the connection closes it.
                        return;
                    }
                }
                changed = self.stopping.changed(), if !draining => {
                    draining = true;
                    if changed.is_ok() {
                        serving.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// When a connection last moved a byte, either way.
#[derive(Clone)]
struct Activity {
    epoch: Instant,
    millis: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            millis: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let elapsed = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.millis.store(elapsed, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.epoch + Duration::from_millis(self.millis.load(Ordering::Relaxed))
    }
}

/// A stream that records its activity.
struct Watched {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled
            && n > 0
        {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
