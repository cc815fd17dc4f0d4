//! Identifiers that appear on the wire and in signed bytes.

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

/// Defines a newtype of `$len` bytes written everywhere (on the wire, in
/// signed layouts' JSON, in logs and on the command line) as `2 × $len`
/// lower-case hex digits: its `to_hex`/`from_hex`, `Display`, `Debug`,
/// `FromStr` and serde, one copy for every such id. `$what` names it in the
/// refusal of a string that is not its hex.
macro_rules! hex_bytes {
    ($(#[$meta:meta])* $name:ident, $len:literal, $what:literal) => {
        $(#[$meta])*
        ///
        /// Written in lower-case hex, two digits a byte.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub fn to_hex(&self) -> String {
                ::hex::encode(self.0)
            }

            pub fn from_hex(s: &str) -> Result<$name, String> {
                let mut out = [0u8; $len];
                ::hex::decode_to_slice(s, &mut out)
                    .map_err(|_| format!("{} {s:?} must be {} hex digits", $what, 2 * $len))?;
                Ok($name(out))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::from_hex(s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::ids::with_hex(&self.0, |digits| f.write_str(digits))
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.to_hex())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::ids::with_hex(&self.0, |digits| s.serialize_str(digits))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::ids::parse_str(d, $name::from_hex)
            }
        }
    };
}
pub(crate) use hex_bytes;

/// A seat's number in the meeting's roster (1-based, as printed on the hall's plan).
pub type SeatNo = u32;

/// Lends `bytes` as lower-case hex digits to `write`, from a buffer on the
/// stack (at most 64 bytes). Every acknowledgement and tally carries round
/// ids, digests and signatures, and `hex::encode` builds its `String` a
/// character at a time.
pub(crate) fn with_hex<R>(bytes: &[u8], write: impl FnOnce(&str) -> R) -> R {
    let mut digits = [0u8; 128];
    let digits = &mut digits[..2 * bytes.len()];
    hex::encode_to_slice(bytes, digits).expect("two digits a byte, at most 64 bytes");
    write(std::str::from_utf8(digits).expect("hex digits are ASCII"))
}

/// Deserializes a string and hands it to `parse` as it is, borrowed from
/// the frame when it can be: a ballot's round id, documents digest and
/// signature each cost an allocation and a copy when read as a `String`
/// first.
pub(crate) fn parse_str<'de, D, T, E>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: std::fmt::Display,
{
    struct Parse<F>(F);
    impl<'de, T, E: std::fmt::Display, F: FnOnce(&str) -> Result<T, E>> serde::de::Visitor<'de>
        for Parse<F>
    {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<X: serde::de::Error>(self, s: &str) -> Result<T, X> {
            (self.0)(s).map_err(X::custom)
        }
    }
    d.deserialize_str(Parse(parse))
}

/// A meeting's id: a short slug chosen by the secretary, e.g. `phuc-loi-2026-k12`.
/// Lower-case ASCII letters, digits and `-`, 1 to 64 characters, so that it
/// can be typed, put in a URL and signed without ambiguity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MeetingId(String);

impl MeetingId {
    pub fn parse(s: &str) -> Result<MeetingId, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(MeetingId(s.to_owned()))
        } else {
            Err(format!(
                "meeting id {s:?} must be 1 to 64 characters of a-z, 0-9 and '-'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for MeetingId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MeetingId::parse(s)
    }
}

impl<'de> Deserialize<'de> for MeetingId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MeetingId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for MeetingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

hex_bytes! {
    /// A vote round's id: 16 random bytes, new for every round (a re-vote on the
    /// same item is a new round), so that a ballot signed for one round can never
    /// be replayed into another.
    RoundId, 16, "round id"
}

/// Whom an enrolled device speaks for: a delegate's seat or the chair's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    Seat(SeatNo),
    Chair,
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Seat(n) => write!(f, "seat {n}"),
            Principal::Chair => f.write_str("chair"),
        }
    }
}

hex_bytes! {
    /// A SHA-256 hash.
    #[derive(Default)]
    Sha, 32, "SHA-256"
}

impl Sha {
    /// What the first entry of a chain links to.
    pub const ZERO: Sha = Sha([0; 32]);

    pub fn of(bytes: &[u8]) -> Sha {
        Sha(Sha256::digest(bytes).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_ids_are_slugs() {
        assert!(MeetingId::parse("phuc-loi-2026").is_ok());
        assert!(MeetingId::parse("").is_err());
        assert!(MeetingId::parse("Phúc Lợi").is_err());
        assert!(MeetingId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn round_ids_are_32_hex_digits() {
        let id = RoundId([0xab; 16]);
        assert_eq!(RoundId::from_hex(&id.to_hex()), Ok(id));
        assert!(RoundId::from_hex("abcd").is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(16)));
        assert_eq!("ab".repeat(16).parse(), Ok(id));
        assert_eq!(format!("{id:?}"), format!("RoundId({})", "ab".repeat(16)));
    }

    #[test]
    fn a_string_that_is_not_the_hex_is_refused_naming_what_it_should_be() {
        assert_eq!(
            "ab".parse::<Sha>(),
            Err("SHA-256 \"ab\" must be 64 hex digits".to_owned())
        );
        let not_hex = serde_json::from_str::<RoundId>(&format!("\"{}\"", "zz".repeat(16)));
        assert!(not_hex.unwrap_err().to_string().contains("round id"));
    }

    #[test]
    fn principals_serialize_as_tagged_objects() {
        assert_eq!(
            serde_json::to_string(&Principal::Seat(7)).unwrap(),
            r#"{"seat":7}"#
        );
        assert_eq!(
            serde_json::to_string(&Principal::Chair).unwrap(),
            r#""chair""#
        );
    }
}
