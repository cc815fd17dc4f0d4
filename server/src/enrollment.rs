//! One-time enrollment codes. The secretary prints one per seat (and one for
//! the chair's console); a device that presents it binds its key to that seat
//! and the code is burnt. The secretariat's codes are alike but belong to no
//! meeting ([`issue_secretariat`]). Only a hash of each code is stored.

use crate::clock::now_ms;
use crate::store::{NewCode, Store, StoreError, code_hash};
use gavel_protocol::{MeetingId, Principal};
use rand::Rng;

/// Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or
/// typed from paper is not mistaken.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh code, ten characters (50 random bits) in two groups: `K7QM3-XPD9T`.
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: String = (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// Issues a code for each principal, valid for `ttl_hours`, and returns them in order.
pub async fn issue(
    store: &Store,
    meeting: &MeetingId,
    principals: &[Principal],
    ttl_hours: u32,
) -> Result<Vec<(Principal, String)>, StoreError> {
    let expires_at = now_ms() + u64::from(ttl_hours) * 3_600_000;
    let issued: Vec<(Principal, String)> = principals.iter().map(|&p| (p, new_code())).collect();
    let rows: Vec<NewCode> = issued
        .iter()
        .map(|(principal, code)| NewCode {
            code_hash: code_hash(code),
            meeting: meeting.clone(),
            principal: *principal,
            expires_at,
        })
        .collect();
    store.add_codes(&rows).await?;
    Ok(issued)
}

/// Issues `count` codes for the secretariat's devices, valid for `ttl_hours`.
pub async fn issue_secretariat(
    store: &Store,
    count: u32,
    ttl_hours: u32,
) -> Result<Vec<String>, StoreError> {
    let expires_at = now_ms() + u64::from(ttl_hours) * 3_600_000;
    let codes: Vec<String> = (0..count).map(|_| new_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(c)).collect();
    store.add_secretariat_codes(&hashes, expires_at).await?;
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_hash_alike_however_typed() {
        let code = new_code();
        assert_eq!(code.len(), 11);
        assert!(
            code.chars()
                .filter(|&c| c != '-')
                .all(|c| ALPHABET.contains(&(c as u8)))
        );
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(code_hash(&typed), code_hash(&code));
        assert_ne!(new_code(), code);
    }
}
