//! The byte codec of the node's request-response protocols: every request and response is one
//! frame, `length (u32 BE) || bytes`, with a limit per protocol and direction checked before any
//! byte of the body is read (PROTOCOL section 17.3). A frame over its limit, or cut short, fails
//! the stream: nothing is allocated for it.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;

use crate::limits::MAX_ENVELOPE_LEN;

/// The protocol that carries one envelope to the node of its recipient.
pub const ENVELOPE_PROTOCOL: StreamProtocol = StreamProtocol::new("/dmp/envelope/1");

/// Largest envelope request: the largest envelope the core parses.
pub const MAX_ENVELOPE_REQUEST: usize = MAX_ENVELOPE_LEN;
/// An envelope's answer: the receiving agent's status (i32 BE: 0, or a negative error code).
pub const ENVELOPE_RESPONSE_LEN: usize = 4;

/// Frames bytes with a length prefix; `max_request` and `max_response` bound what is read.
#[derive(Clone, Copy, Debug)]
pub struct FrameCodec {
    max_request: usize,
    max_response: usize,
}

impl FrameCodec {
    /// The envelope protocol's codec.
    pub fn envelope() -> Self {
        FrameCodec { max_request: MAX_ENVELOPE_REQUEST, max_response: ENVELOPE_RESPONSE_LEN }
    }
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("frame of {len} bytes over {max}")));
    }
    // Grown as bytes arrive, not allocated from the announced length: a peer that announces a
    // large frame and sends slowly pins only what it sent.
    let mut buf = Vec::new();
    (&mut *io).take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "frame cut short"));
    }
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8], max: usize) -> io::Result<()> {
    if bytes.len() > max {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "frame over its limit"));
    }
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

impl Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Vec<u8>) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: Vec<u8>) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response).await
    }
}
