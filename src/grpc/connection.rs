//! The connection under every HTTP/2 server connection: the accepted
//! socket (plain TCP or TLS) with vectored writes turned off.
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
//! Without them, answers under 1 KiB are copied and share writes; larger
//! ones (search and audit pages) are still written from their own buffers.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::server::Connected;

/// An accepted connection that reports no vectored writes (module docs).
#[derive(Debug)]
pub struct CoalescingWrites<T>(pub T);

impl<T: AsyncRead + Unpin> AsyncRead for CoalescingWrites<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CoalescingWrites<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // Callers that ask anyway still get one write of the first buffer
        // with bytes, as `is_write_vectored` promises.
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The connection's peer address and, over TLS, its certificates reach
/// the handlers as they would without the wrapper.
impl<T: Connected> Connected for CoalescingWrites<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    #[tokio::test]
    async fn reads_and_writes_pass_through_without_vectored_writes() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = CoalescingWrites(server);
        assert!(!server.is_write_vectored());
        let written = server
            .write_vectored(&[
                IoSlice::new(b""),
                IoSlice::new(b"abc"),
                IoSlice::new(b"def"),
            ])
            .await
            .expect("write");
        assert_eq!(written, 3, "one buffer a write");
        server.shutdown().await.expect("shutdown");
        let mut received = Vec::new();
        let mut client = client;
        client.read_to_end(&mut received).await.expect("read");
        assert_eq!(received, b"abc");
    }
}
