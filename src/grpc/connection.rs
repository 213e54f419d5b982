//! The connection under every HTTP/2 server connection: the accepted
//! socket (plain TCP or TLS) with its writes gathered.
//!
//! Why: h2 encodes frames into one write buffer and flushes it when the
//! connection has nothing more to send. A DATA frame whose payload reaches
//! its chain threshold is not copied into that buffer but queued beside it,
//! and nothing more can be buffered until it is written. The threshold is
//! 256 bytes on a socket with vectored writes and 1 KiB without. Most
//! answers here (a LookupCode concept is about 420 bytes) fall between the
//! two, so with vectored writes every answer cost its own `writev`: 1.5
//! system calls a LookupCode against 0.6 a health check, and the kernel's
//! TCP path was most of the gap to the ceiling (BENCHMARKS.md, attempt 9).
//!
//! So the socket reports no vectored writes, and answers under 1 KiB are
//! copied and share writes. A larger payload (search and audit pages) then
//! reaches the socket as two writes: h2's buffer, which ends with the
//! frame's head, and the payload. The buffer is held here and sent with the
//! payload in one `writev`, which an export needs to keep its throughput.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::server::Connected;

/// Most bytes held back for the next write: h2's whole write buffer
/// (16 KiB), so the head of a chained DATA frame always waits for its
/// payload. A write that would pass it goes out at once, with what is held,
/// in one `writev`.
const HELD_MAX: usize = 16 * 1024;

/// An accepted connection that reports no vectored writes and gathers
/// small writes until the next flush or large write (module docs).
#[derive(Debug)]
pub struct CoalescingWrites<T> {
    inner: T,
    held: Vec<u8>,
}

impl<T> CoalescingWrites<T> {
    /// Wraps an accepted connection.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            held: Vec::new(),
        }
    }
}

impl<T: AsyncWrite + Unpin> CoalescingWrites<T> {
    /// Writes what is held.
    fn poll_write_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.held.is_empty() {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.held))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.held.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CoalescingWrites<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CoalescingWrites<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.held.len() + buf.len() <= HELD_MAX {
            // Exact, so a connection never keeps more than HELD_MAX.
            this.held.reserve_exact(buf.len());
            this.held.extend_from_slice(buf);
            return Poll::Ready(Ok(buf.len()));
        }
        // Too much to hold: what is held goes out with `buf` in one writev.
        while !this.held.is_empty() {
            let parts = [IoSlice::new(&this.held), IoSlice::new(buf)];
            let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, &parts))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if written > this.held.len() {
                let of_buf = written - this.held.len();
                this.held.clear();
                return Poll::Ready(Ok(of_buf));
            }
            this.held.drain(..written);
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_held(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_held(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The connection's peer address and, over TLS, its certificates reach
/// the handlers as they would without the wrapper.
impl<T: Connected> Connected for CoalescingWrites<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// Everything written arrives, in order, once flushed: small writes
    /// held, a large one sent with them, then more small ones.
    #[tokio::test]
    async fn every_byte_arrives_in_order_after_a_flush() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let mut server = CoalescingWrites::new(server);
        assert!(!server.is_write_vectored());
        let mut sent = Vec::new();
        for chunk in [
            vec![1u8; 100],
            vec![2; 1033],
            vec![3; 20_000],
            vec![4; 7],
            vec![5; HELD_MAX],
        ] {
            server.write_all(&chunk).await.expect("write");
            sent.extend_from_slice(&chunk);
        }
        server.flush().await.expect("flush");
        server.shutdown().await.expect("shutdown");
        let mut received = Vec::new();
        let mut client = client;
        client.read_to_end(&mut received).await.expect("read");
        assert_eq!(received, sent);
    }

    /// Through a pipe narrower than the writes, a reader draining it as it
    /// goes: held bytes written in parts, a large write waiting for room,
    /// and bytes still held at shutdown all arrive, in order.
    #[tokio::test]
    async fn a_narrow_pipe_gets_every_byte_in_order_even_when_shut_down_holding() {
        let (mut client, server) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            client.read_to_end(&mut received).await.expect("read");
            received
        });
        let mut server = CoalescingWrites::new(server);
        let mut sent = Vec::new();
        for (i, len) in [300, 5_000, 40_000, 12, 900].into_iter().enumerate() {
            let chunk: Vec<u8> = (0..len).map(|n| (n + i) as u8).collect();
            server.write_all(&chunk).await.expect("write");
            sent.extend_from_slice(&chunk);
            if i == 2 {
                server.flush().await.expect("flush");
            }
        }
        server
            .shutdown()
            .await
            .expect("shutdown writes what is held");
        assert_eq!(reader.await.expect("reader"), sent);
    }

    /// A small write is held until the flush: nothing is sent before it.
    #[tokio::test]
    async fn a_small_write_waits_for_the_flush() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut server = CoalescingWrites::new(server);
        server.write_all(b"head").await.expect("write");
        let mut byte = [0u8; 1];
        let before_flush = futures::FutureExt::now_or_never(client.read(&mut byte));
        assert!(before_flush.is_none(), "held until the flush");
        server.flush().await.expect("flush");
        let mut received = [0u8; 4];
        client.read_exact(&mut received).await.expect("read");
        assert_eq!(&received, b"head");
    }
}
