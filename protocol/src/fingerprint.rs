//! A TLS certificate's SHA-256 fingerprint, the way a hall without a domain
//! (and so without a certificate a public authority would sign) proves to
//! its tablets that they reached the real server: the server prints the
//! fingerprint of its self-signed certificate at start, the secretary reads
//! it out or shows it as a QR code, and each device pins it at enrollment.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// SHA-256 of a certificate's DER bytes. Written as 32 upper-case hex pairs
/// joined by colons, as browsers and `openssl x509 -fingerprint -sha256`
/// show it; read with or without the colons, in either case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Fingerprint, String> {
        let digits: String = s.chars().filter(|c| *c != ':').collect();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| {
            format!("a certificate fingerprint is 64 hex digits (SHA-256), got {s:?}")
        })?;
        Ok(Fingerprint(bytes))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_with_colons_and_read_with_or_without() {
        let print = Fingerprint::of(b"certificate");
        let shown = print.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(shown.parse(), Ok(print));
        assert_eq!(shown.replace(':', "").to_lowercase().parse(), Ok(print));
        assert!("AB:CD".parse::<Fingerprint>().is_err());
        assert!(format!("ZZ{}", &shown[2..]).parse::<Fingerprint>().is_err());
    }
}
