//! The three choices of a ballot. Their labels belong to each meeting's
//! configuration; the protocol only knows the choice and its one-byte code.

use serde::{Deserialize, Serialize};

/// A delegate's choice on a ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    No,
    Abstain,
}

impl Choice {
    pub const ALL: [Choice; 3] = [Choice::Yes, Choice::No, Choice::Abstain];

    /// The byte that stands for this choice in signed layouts.
    pub fn code(self) -> u8 {
        match self {
            Choice::Yes => 1,
            Choice::No => 2,
            Choice::Abstain => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Choice> {
        match code {
            1 => Some(Choice::Yes),
            2 => Some(Choice::No),
            3 => Some(Choice::Abstain),
            _ => None,
        }
    }

    /// The wire name (`yes`, `no`, `abstain`), also accepted on command lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Abstain => "abstain",
        }
    }
}

impl std::str::FromStr for Choice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "yes" | "y" => Ok(Choice::Yes),
            "no" | "n" => Ok(Choice::No),
            "abstain" | "a" => Ok(Choice::Abstain),
            other => Err(format!("unknown choice {other:?}: use yes, no or abstain")),
        }
    }
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_rejected() {
        for c in Choice::ALL {
            assert_eq!(Choice::from_code(c.code()), Some(c));
        }
        assert_eq!(Choice::from_code(0), None);
        assert_eq!(Choice::from_code(4), None);
    }
}
