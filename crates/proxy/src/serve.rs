//! Serving a router over TCP with timeouts for slow clients: a header read timeout (slowloris)
//! and a write timeout (a client that stops reading holds no upstream connection for long).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

/// Per-connection read and write buffer cap (request heads are far smaller).
const BUF_SIZE: usize = 64 << 10;

/// Connection-level limits.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// A client must send its whole request head within this.
    pub header_timeout: Duration,
    /// A write to the client that makes no progress for this long closes the connection.
    pub write_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Accept connections forever, serving `router` on each (HTTP/1.1, keep-alive). Each request
/// carries the peer address as `ConnectInfo<SocketAddr>` (the rate limit keys on it).
pub async fn serve(listener: TcpListener, router: Router, opts: ServeOptions) -> io::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) if is_transient(&e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, peer, router.clone(), opts));
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, router: Router, opts: ServeOptions) {
    let router = router.layer(axum::Extension(ConnectInfo(peer)));
    let io = TokioIo::new(WriteTimeout::new(stream, opts.write_timeout));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        // Caps what one connection buffers, request head and queued response chunks alike
        // (hyper's default is ~400 kB): with a thousand clients streaming large images, that
        // default alone could pin hundreds of megabytes.
        .max_buf_size(BUF_SIZE)
        .serve_connection(io, TowerToHyperService::new(router));
    // Errors here are per-connection (resets, timeouts): nothing to report.
    let _ = conn.await;
}

fn is_transient(e: &io::Error) -> bool {
    !matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::PermissionDenied
    )
}

/// A stream whose writes fail once they have been blocked for `limit`.
struct WriteTimeout {
    inner: TcpStream,
    limit: Duration,
    blocked: Option<Pin<Box<Sleep>>>,
}

impl WriteTimeout {
    fn new(inner: TcpStream, limit: Duration) -> Self {
        WriteTimeout {
            inner,
            limit,
            blocked: None,
        }
    }

    /// Turn a pending write into an error once it has been pending too long.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.blocked = None;
            return poll;
        }
        let limit = self.limit;
        let sleep = self
            .blocked
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

use std::future::Future;

impl AsyncRead for WriteTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
