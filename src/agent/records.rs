//! Record names and the codecs of the agent's own small records.

use super::*;

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(super) fn session_name(id: &[u8]) -> String {
    format!("session/{}", hex(id))
}

pub(super) fn peer_name(id: &[u8]) -> String {
    format!("peer/{}", hex(id))
}

pub(super) fn group_name(id: &[u8]) -> String {
    format!("group/{}", hex(id))
}

pub(super) fn member_name(group_id: &[u8], member: &[u8]) -> String {
    format!("member/{}/{}", hex(group_id), hex(member))
}

pub(super) fn outbox_name(seq: u64) -> String {
    format!("outbox/{seq:016x}")
}

pub(super) fn inbox_name(seq: u64) -> String {
    format!("inbox/{seq:016x}")
}

pub(super) fn secret_name(label: &str) -> String {
    format!("secret/{label}")
}

pub(super) fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N]> {
    if s.len() != 2 * N {
        return Err(Error::BadState);
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or(Error::BadState)?, 16)
            .map_err(|_| Error::BadState)?;
    }
    Ok(out)
}

pub(super) fn one_time_prekey_name(id: u32) -> String {
    format!("otk/{id:08x}")
}

pub(super) fn first_message_name(signed_prekey_id: u32, session_id: &[u8]) -> String {
    format!("first/{signed_prekey_id:08x}/{}", hex(session_id))
}
