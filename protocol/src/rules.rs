//! Vote settings, pass rules and tallies: pure functions shared by the hub,
//! the clients and the audit tool, so that all of them reach the same result.
//!
//! A rule is a base (what the yes votes are measured against) and a threshold
//! (a fraction, strict or not). An HĐND resolution passes with *more than half
//! of all delegates*: `Rule { base: AllSeats, threshold: MoreThanHalf }`, so 21
//! of 40 seats pass and 20 do not. Percentages in reports are always of the
//! total seats, whatever the rule's base.

use crate::Choice;
use serde::{Deserialize, Serialize};

/// What the yes votes are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// Every seat of the body, present or not (tổng số đại biểu).
    AllSeats,
    /// The delegates checked in when the round closed.
    Present,
    /// Everyone who took part: yes, no and abstain.
    Cast,
    /// Yes and no only; abstentions do not count.
    YesNo,
}

/// How large a share of the base the yes votes must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Strictly more than 1/2.
    MoreThanHalf,
    /// At least 2/3.
    AtLeastTwoThirds,
    /// At least 3/4.
    AtLeastThreeQuarters,
    /// `num/den` of the base; `strict` means the yes votes must exceed it.
    Fraction { num: u32, den: u32, strict: bool },
}

impl Threshold {
    /// The threshold as (numerator, denominator, strict).
    pub fn as_fraction(self) -> (u64, u64, bool) {
        match self {
            Threshold::MoreThanHalf => (1, 2, true),
            Threshold::AtLeastTwoThirds => (2, 3, false),
            Threshold::AtLeastThreeQuarters => (3, 4, false),
            Threshold::Fraction { num, den, strict } => (u64::from(num), u64::from(den), strict),
        }
    }

    /// Checks that a fraction threshold is a proper share (0 < num ≤ den).
    pub fn validate(self) -> Result<(), String> {
        let (num, den, _) = self.as_fraction();
        if den == 0 || num == 0 || num > den {
            return Err(format!(
                "threshold fraction {num}/{den} must satisfy 0 < num <= den"
            ));
        }
        Ok(())
    }
}

/// A pass rule: base and threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    pub base: Base,
    pub threshold: Threshold,
}

impl Rule {
    /// More than half of all seats: the default for HĐND resolutions.
    pub const MAJORITY_OF_ALL_SEATS: Rule = Rule {
        base: Base::AllSeats,
        threshold: Threshold::MoreThanHalf,
    };

    /// The number the yes votes are measured against for these counts.
    pub fn base_value(&self, counts: &Counts) -> u64 {
        u64::from(match self.base {
            Base::AllSeats => counts.total_seats,
            Base::Present => counts.present,
            Base::Cast => counts.taking_part(),
            Base::YesNo => counts.yes + counts.no,
        })
    }

    /// The smallest number of yes votes that passes, for a given base value.
    pub fn yes_needed(&self, base_value: u64) -> u64 {
        let (num, den, strict) = self.threshold.as_fraction();
        let product = num * base_value;
        if strict {
            product / den + 1
        } else {
            product.div_ceil(den).max(1)
        }
    }

    /// Whether these counts pass. A base of zero never passes: nothing was decided.
    pub fn passes(&self, counts: &Counts) -> bool {
        let base = self.base_value(counts);
        base > 0 && u64::from(counts.yes) >= self.yes_needed(base)
    }

    /// A short English description, e.g. "more than 1/2 of all seats".
    pub fn describe(&self) -> String {
        let (num, den, strict) = self.threshold.as_fraction();
        let base = match self.base {
            Base::AllSeats => "all seats",
            Base::Present => "delegates present",
            Base::Cast => "votes cast",
            Base::YesNo => "yes and no votes",
        };
        let op = if strict { "more than" } else { "at least" };
        format!("{op} {num}/{den} of {base}")
    }
}

/// Whether the choices of a round are linked to seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Secrecy {
    /// An open vote: who chose what is recorded and may be shown.
    #[default]
    Named,
    /// A secret ballot: only who took part is known, never who chose what.
    Secret,
}

/// What everyone but the chair sees while a round is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Interim {
    /// Nothing until the round closes.
    None,
    /// Running totals per choice.
    #[default]
    Totals,
    /// Totals and each seat's choice (named rounds only).
    Individual,
}

/// The settings a round runs with, taken from its agenda item when it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteSettings {
    pub rule: Rule,
    pub secrecy: Secrecy,
    pub interim: Interim,
    /// Whether a delegate may change a ballot while the round is open; the last one counts.
    pub allow_change: bool,
    /// Whether only checked-in delegates may vote.
    pub require_check_in: bool,
    /// How long the voting window stays open unless the chair says otherwise.
    pub window_seconds: u32,
}

impl Default for VoteSettings {
    fn default() -> Self {
        VoteSettings {
            rule: Rule::MAJORITY_OF_ALL_SEATS,
            secrecy: Secrecy::Named,
            interim: Interim::Totals,
            allow_change: true,
            require_check_in: true,
            window_seconds: 60,
        }
    }
}

impl VoteSettings {
    /// Checks the combinations that make no sense (a secret vote showing each seat's choice).
    pub fn validate(&self) -> Result<(), String> {
        self.rule.threshold.validate()?;
        if self.secrecy == Secrecy::Secret && self.interim == Interim::Individual {
            return Err(
                "a secret vote cannot show individual choices (interim = \"individual\")".into(),
            );
        }
        if self.window_seconds == 0 || self.window_seconds > 24 * 3600 {
            return Err("window_seconds must be between 1 and 86400".into());
        }
        Ok(())
    }
}

/// The numbers a tally is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub total_seats: u32,
    pub present: u32,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
}

impl Counts {
    /// Everyone who took part; an abstention counts as taking part.
    pub fn taking_part(&self) -> u32 {
        self.yes + self.no + self.abstain
    }

    pub fn add(&mut self, choice: Choice) {
        *self.slot(choice) += 1;
    }

    pub fn remove(&mut self, choice: Choice) {
        let slot = self.slot(choice);
        *slot = slot
            .checked_sub(1)
            .expect("removed a choice that was never counted");
    }

    pub fn of(&self, choice: Choice) -> u32 {
        match choice {
            Choice::Yes => self.yes,
            Choice::No => self.no,
            Choice::Abstain => self.abstain,
        }
    }

    fn slot(&mut self, choice: Choice) -> &mut u32 {
        match choice {
            Choice::Yes => &mut self.yes,
            Choice::No => &mut self.no,
            Choice::Abstain => &mut self.abstain,
        }
    }

    /// Counts the given choices for a body of `total_seats` with `present` checked in.
    pub fn tally(
        total_seats: u32,
        present: u32,
        choices: impl IntoIterator<Item = Choice>,
    ) -> Counts {
        let mut counts = Counts {
            total_seats,
            present,
            ..Counts::default()
        };
        for c in choices {
            counts.add(c);
        }
        counts
    }
}

/// A closed round's result, with everything a report needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TallyResult {
    pub counts: Counts,
    pub rule: Rule,
    /// The value of the rule's base for these counts.
    pub base_value: u64,
    /// The smallest number of yes votes that would have passed.
    pub yes_needed: u64,
    pub passed: bool,
}

impl TallyResult {
    pub fn decide(rule: Rule, counts: Counts) -> TallyResult {
        let base_value = rule.base_value(&counts);
        TallyResult {
            counts,
            rule,
            base_value,
            yes_needed: rule.yes_needed(base_value),
            passed: rule.passes(&counts),
        }
    }
}

/// `part` as a percentage of `total` in hundredths of a percent, rounded half
/// up: 437 of 473 is 9239 (92.39%). Zero when `total` is zero.
pub fn percent_hundredths(part: u32, total: u32) -> u32 {
    if total == 0 {
        return 0;
    }
    let scaled = u64::from(part) * 10_000 * 2 + u64::from(total);
    (scaled / (2 * u64::from(total))) as u32
}

/// A percentage with two decimals and the given decimal separator: Vietnamese
/// reports write `92,39%`, English ones `92.39%`.
pub fn format_percent(part: u32, total: u32, decimal_separator: char) -> String {
    let h = percent_hundredths(part, total);
    format!("{}{}{:02}%", h / 100, decimal_separator, h % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counts(total: u32, present: u32, yes: u32, no: u32, abstain: u32) -> Counts {
        Counts {
            total_seats: total,
            present,
            yes,
            no,
            abstain,
        }
    }

    #[test]
    fn more_than_half_of_forty_seats_needs_twenty_one() {
        let rule = Rule::MAJORITY_OF_ALL_SEATS;
        assert_eq!(rule.yes_needed(40), 21);
        assert!(rule.passes(&counts(40, 40, 21, 19, 0)));
        assert!(!rule.passes(&counts(40, 40, 20, 0, 20)));
        // Absent seats still count in the base.
        assert!(!rule.passes(&counts(40, 30, 20, 0, 0)));
    }

    #[test]
    fn two_thirds_is_inclusive() {
        let rule = Rule {
            base: Base::AllSeats,
            threshold: Threshold::AtLeastTwoThirds,
        };
        assert_eq!(rule.yes_needed(30), 20);
        assert!(rule.passes(&counts(30, 30, 20, 10, 0)));
        assert!(!rule.passes(&counts(30, 30, 19, 11, 0)));
        assert_eq!(rule.yes_needed(40), 27);
    }

    #[test]
    fn bases_measure_different_things() {
        let c = counts(100, 60, 31, 20, 9);
        let r = |base| Rule {
            base,
            threshold: Threshold::MoreThanHalf,
        };
        assert!(!r(Base::AllSeats).passes(&c));
        assert!(r(Base::Present).passes(&c));
        assert!(r(Base::Cast).passes(&c));
        assert!(r(Base::YesNo).passes(&c));
        assert_eq!(r(Base::YesNo).base_value(&c), 51);
    }

    #[test]
    fn zero_base_never_passes() {
        let rule = Rule {
            base: Base::Cast,
            threshold: Threshold::MoreThanHalf,
        };
        assert!(!rule.passes(&counts(40, 0, 0, 0, 0)));
    }

    #[test]
    fn percentages_match_the_official_example() {
        // "448 đại biểu tham gia biểu quyết (94,71% tổng số ĐBQH); 437 tán thành (92,39%),
        // 3 không tán thành (0,63%), 8 không biểu quyết (1,69%)": 473 seats.
        assert_eq!(format_percent(448, 473, ','), "94,71%");
        assert_eq!(format_percent(437, 473, ','), "92,39%");
        assert_eq!(format_percent(3, 473, ','), "0,63%");
        assert_eq!(format_percent(8, 473, '.'), "1.69%");
        assert_eq!(format_percent(40, 40, '.'), "100.00%");
        assert_eq!(format_percent(0, 0, '.'), "0.00%");
    }

    #[test]
    fn invalid_settings_are_refused() {
        let secret_individual = VoteSettings {
            secrecy: Secrecy::Secret,
            interim: Interim::Individual,
            ..VoteSettings::default()
        };
        assert!(secret_individual.validate().is_err());
        let bad_fraction = Threshold::Fraction {
            num: 3,
            den: 2,
            strict: false,
        };
        assert!(bad_fraction.validate().is_err());
        assert!(VoteSettings::default().validate().is_ok());
    }

    fn any_threshold() -> impl Strategy<Value = Threshold> {
        prop_oneof![
            Just(Threshold::MoreThanHalf),
            Just(Threshold::AtLeastTwoThirds),
            Just(Threshold::AtLeastThreeQuarters),
            (1u32..=20, 1u32..=20, any::<bool>()).prop_filter_map("num <= den", |(n, d, s)| {
                (n <= d).then_some(Threshold::Fraction {
                    num: n,
                    den: d,
                    strict: s,
                })
            }),
        ]
    }

    fn any_base() -> impl Strategy<Value = Base> {
        prop_oneof![
            Just(Base::AllSeats),
            Just(Base::Present),
            Just(Base::Cast),
            Just(Base::YesNo)
        ]
    }

    fn any_counts() -> impl Strategy<Value = Counts> {
        (0u32..3000, 0u32..3000, 0u32..3000).prop_flat_map(|(a, b, c)| {
            let taking_part = a.min(b).min(c);
            let yes = a % (taking_part + 1);
            let no = b % (taking_part - yes + 1);
            let abstain = taking_part - yes - no;
            (taking_part..=taking_part + 500).prop_flat_map(move |present| {
                (present..=present + 500)
                    .prop_map(move |total| counts(total, present, yes, no, abstain))
            })
        })
    }

    proptest! {
        /// The integer rule agrees with exact rational arithmetic.
        #[test]
        fn passing_matches_rational_arithmetic(base in any_base(), threshold in any_threshold(), c in any_counts()) {
            let rule = Rule { base, threshold };
            let (num, den, strict) = threshold.as_fraction();
            let b = rule.base_value(&c);
            let lhs = u64::from(c.yes) * den;
            let rhs = num * b;
            let expected = b > 0 && if strict { lhs > rhs } else { lhs >= rhs };
            prop_assert_eq!(rule.passes(&c), expected);
        }

        /// One more yes vote, taken from the no votes, never turns a pass into a fail.
        #[test]
        fn passing_is_monotonic_in_yes(base in any_base(), threshold in any_threshold(), c in any_counts()) {
            prop_assume!(c.no > 0);
            let rule = Rule { base, threshold };
            let more = Counts { yes: c.yes + 1, no: c.no - 1, ..c };
            prop_assert!(!rule.passes(&c) || rule.passes(&more));
        }

        /// `yes_needed` is exactly the boundary: that many passes, one fewer does not.
        #[test]
        fn yes_needed_is_the_boundary(threshold in any_threshold(), total in 1u32..5000) {
            let rule = Rule { base: Base::AllSeats, threshold };
            let needed = rule.yes_needed(u64::from(total));
            prop_assume!(needed <= u64::from(total));
            let n = needed as u32;
            prop_assert!(rule.passes(&counts(total, total, n, total - n, 0)));
            prop_assert!(!rule.passes(&counts(total, total, n - 1, total - n + 1, 0)));
        }

        /// Percentages of the total never exceed 100% and add up to within rounding.
        #[test]
        fn percentages_add_up(c in any_counts()) {
            prop_assume!(c.total_seats > 0);
            let sum: u32 = Choice::ALL.iter().map(|&ch| percent_hundredths(c.of(ch), c.total_seats)).sum();
            let whole = percent_hundredths(c.taking_part(), c.total_seats);
            prop_assert!(whole <= 10_000);
            prop_assert!(sum.abs_diff(whole) <= 2);
        }
    }
}
