//! A bounds-checked cursor for parsing and a writer for encoding. Parsing is total: every
//! read past the end is `BadEnvelope`, never a panic.

use crate::error::{Error, Result};
use zeroize::Zeroize;

/// Reads fields front to back from a byte slice.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The error a short read reports (`BadEnvelope` on the wire, `BadState` for records).
    short: Error,
}

impl<'a> Reader<'a> {
    /// A reader over an envelope or bundle.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0, short: Error::BadEnvelope }
    }

    /// A reader over a decrypted state record.
    pub fn for_state(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0, short: Error::BadState }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.short);
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        out
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A u32 as an unsigned LEB128 varint (1 to 5 bytes, 7 bits per byte, low bits first).
    /// Only the shortest encoding is accepted, so every value has exactly one form on the wire.
    pub fn varint_u32(&mut self) -> Result<u32> {
        let mut value: u64 = 0;
        for i in 0..VARINT_U32_MAX_LEN {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                // A final zero byte after the first is an overlong form of a shorter encoding.
                if (i > 0 && byte == 0) || value > u64::from(u32::MAX) {
                    return Err(self.short);
                }
                return Ok(value as u32);
            }
        }
        Err(self.short)
    }

    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A boolean encoded as 0 or 1; anything else is malformed.
    pub fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.short),
        }
    }

    /// A u32 length prefix then that many bytes, refusing lengths above `max`.
    pub fn bytes_u32(&mut self, max: usize) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(self.short);
        }
        self.take(len)
    }

    /// Succeeds only if every byte was consumed.
    pub fn finish(&self) -> Result<()> {
        if self.remaining() != 0 {
            return Err(self.short);
        }
        Ok(())
    }
}

/// Most bytes a u32 takes as a varint.
pub const VARINT_U32_MAX_LEN: usize = 5;

/// Bytes [`Writer::varint_u32`] writes for `v`.
pub const fn varint_u32_len(v: u32) -> usize {
    match v {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        0x20_0000..0x1000_0000 => 4,
        _ => 5,
    }
}

/// Appends fields to a byte vector.
///
/// State records are written with it, secrets in the clear, into a buffer whose final size is
/// not always known ahead (skipped keys, members). When the buffer has to grow, the old one is
/// zeroized before it is freed: a `Vec`'s own growth would free a copy of everything written so
/// far (root, chain and signing keys) without clearing it. (The final buffer is the caller's to
/// clear.)
#[derive(Default)]
pub struct Writer {
    /// The bytes written so far.
    pub buf: Vec<u8>,
}

impl Writer {
    /// An empty writer with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        Writer { buf: Vec::with_capacity(cap) }
    }

    /// Makes room for `extra` more bytes, moving to a larger buffer (at least double) and
    /// zeroizing the old one if there is not enough.
    fn reserve(&mut self, extra: usize) {
        let need = self.buf.len().saturating_add(extra);
        if need > self.buf.capacity() {
            let mut bigger = Vec::with_capacity(need.max(self.buf.capacity().saturating_mul(2)));
            bigger.extend_from_slice(&self.buf);
            core::mem::replace(&mut self.buf, bigger).zeroize();
        }
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.reserve(b.len());
        self.buf.extend_from_slice(b);
        self
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.reserve(1);
        self.buf.push(v);
        self
    }

    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a u32 as the shortest unsigned LEB128 varint.
    pub fn varint_u32(&mut self, mut v: u32) -> &mut Self {
        self.reserve(VARINT_U32_MAX_LEN);
        while v >= 0x80 {
            self.buf.push((v as u8 & 0x7F) | 0x80);
            v >>= 7;
        }
        self.u8(v as u8)
    }

    /// Appends a big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a boolean as 0 or 1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(v as u8)
    }

    /// Appends a u32 length prefix and the bytes.
    pub fn bytes_u32(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32).bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_length_boundary() {
        for v in
            [0u32, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000, 0xFFF_FFFF, 0x1000_0000, u32::MAX]
        {
            let mut w = Writer::default();
            w.varint_u32(v);
            assert_eq!(w.buf.len(), varint_u32_len(v), "{v:#x}");
            let mut r = Reader::new(&w.buf);
            assert_eq!(r.varint_u32(), Ok(v));
            r.finish().unwrap();
            // Every proper prefix is short.
            for cut in 0..w.buf.len() {
                assert!(Reader::new(&w.buf[..cut]).varint_u32().is_err());
            }
        }
    }

    #[test]
    fn varints_refuse_overlong_and_oversized_forms() {
        for bad in [
            &[0x80, 0x00][..],                     // 0 in two bytes
            &[0xFF, 0x00],                         // 0x7F in two bytes
            &[0x80, 0x80, 0x80, 0x80, 0x00],       // 0 in five bytes
            &[0xFF, 0xFF, 0xFF, 0xFF, 0x10],       // 2^32
            &[0xFF, 0xFF, 0xFF, 0xFF, 0x7F],       // far above u32::MAX
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // six bytes
        ] {
            assert!(Reader::new(bad).varint_u32().is_err(), "{bad:02x?}");
        }
        assert_eq!(Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).varint_u32(), Ok(u32::MAX));
    }

    #[test]
    fn short_reads_fail_without_panic() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(Error::BadEnvelope));
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.take(3), Err(Error::BadEnvelope));
        assert_eq!(r.take(2), Ok(&[2u8, 3][..]));
        assert_eq!(r.u8(), Err(Error::BadEnvelope));
        r.finish().unwrap();
    }

    #[test]
    fn length_prefix_is_bounded() {
        let mut w = Writer::default();
        w.bytes_u32(&[9; 10]);
        assert_eq!(Reader::new(&w.buf).bytes_u32(9), Err(Error::BadEnvelope));
        assert_eq!(Reader::new(&w.buf).bytes_u32(10).unwrap(), &[9; 10]);
        assert_eq!(Reader::for_state(&w.buf[..5]).bytes_u32(10), Err(Error::BadState));
    }

    #[test]
    fn bool_refuses_other_values() {
        assert_eq!(Reader::new(&[2]).bool(), Err(Error::BadEnvelope));
        assert_eq!(Reader::new(&[1]).bool(), Ok(true));
    }
}
