//! The official wording of a result, in Vietnamese and English: one Rust
//! implementation for everything that prints results (the minutes, the
//! command line), worded as the hall screen and the chair's console word them
//! (`server/web/screen/words.js`, `server/web/common/i18n.js`; a test below
//! reads those files and checks that both say the same).
//!
//! Councils report a vote as "38 đại biểu tham gia biểu quyết (95,00% tổng số
//! đại biểu); 35 tán thành (87,50%), 2 không tán thành (5,00%), 1 không biểu
//! quyết (2,50%)." Every percentage is of the total seats
//! ([`format_percent`]); the choice words are the meeting's own [`Labels`].

use crate::messages::Labels;
use crate::rules::{Base, Counts, Rule, format_percent};
use serde::{Deserialize, Serialize};

/// The language a result is worded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Tiếng Việt: the councils' own language, and the default.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Vietnamese reports write `92,39%`, English ones `92.39%`.
    pub fn decimal_separator(self) -> char {
        match self {
            Lang::Vi => ',',
            Lang::En => '.',
        }
    }

    /// `part` as a percentage of `total`, two decimals, this language's separator.
    pub fn percent(self, part: u32, total: u32) -> String {
        format_percent(part, total, self.decimal_separator())
    }
}

/// A choice label as it reads inside a sentence: "Tán thành" becomes "tán
/// thành". Only the first letter is lowered, so that an abbreviation in a
/// council's label ("Đồng ý với Tờ trình của UBND") keeps its capitals.
pub fn in_sentence(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The result sentence of the minutes, the hall screen and the chair's
/// console (`officialSentence` in `server/web/common/protocol.js`): who took part,
/// then each choice, every percentage of the total seats.
pub fn official_sentence(counts: &Counts, labels: &Labels, lang: Lang) -> String {
    let total = counts.total_seats;
    let taking = counts.taking_part();
    let pct = |n| lang.percent(n, total);
    let choice = |n, label: &str| format!("{n} {} ({})", in_sentence(label), pct(n));
    let (yes, no, abstain) = (
        choice(counts.yes, &labels.yes),
        choice(counts.no, &labels.no),
        choice(counts.abstain, &labels.abstain),
    );
    match lang {
        Lang::Vi => format!(
            "{taking} đại biểu tham gia biểu quyết ({} tổng số đại biểu); {yes}, {no}, {abstain}.",
            pct(taking)
        ),
        Lang::En => format!(
            "{taking} {} took part in the vote ({} of all seats); {yes}, {no}, {abstain}.",
            if taking == 1 { "delegate" } else { "delegates" },
            pct(taking)
        ),
    }
}

/// A pass rule in words: "trên 1/2 tổng số đại biểu", "more than 1/2 of all
/// seats". A rule on yes and no votes names the meeting's labels in Vietnamese.
pub fn describe_rule(rule: &Rule, labels: &Labels, lang: Lang) -> String {
    if lang == Lang::En {
        return rule.describe();
    }
    let (num, den, strict) = rule.threshold.as_fraction();
    let op = if strict { "trên" } else { "ít nhất" };
    let base = match rule.base {
        Base::AllSeats => "tổng số đại biểu".to_owned(),
        Base::Present => "số đại biểu có mặt".to_owned(),
        Base::Cast => "số đại biểu tham gia biểu quyết".to_owned(),
        Base::YesNo => format!(
            "tổng số phiếu {} và {}",
            in_sentence(&labels.yes),
            in_sentence(&labels.no)
        ),
    };
    format!("{op} {num}/{den} {base}")
}

/// The decision in capitals, as the minutes and the command line print it.
pub fn verdict(passed: bool, lang: Lang) -> &'static str {
    match (lang, passed) {
        (Lang::Vi, true) => "THÔNG QUA",
        (Lang::Vi, false) => "KHÔNG THÔNG QUA",
        (Lang::En, true) => "PASSED",
        (Lang::En, false) => "NOT PASSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Threshold;

    fn counts(total_seats: u32, yes: u32, no: u32, abstain: u32) -> Counts {
        Counts {
            total_seats,
            present: yes + no + abstain,
            yes,
            no,
            abstain,
        }
    }

    #[test]
    fn the_official_sentence_in_both_languages() {
        let c = counts(40, 35, 2, 1);
        assert_eq!(
            official_sentence(&c, &Labels::default(), Lang::Vi),
            "38 đại biểu tham gia biểu quyết (95,00% tổng số đại biểu); \
             35 tán thành (87,50%), 2 không tán thành (5,00%), 1 không biểu quyết (2,50%)."
        );
        assert_eq!(
            official_sentence(&c, &Labels::default(), Lang::En),
            "38 delegates took part in the vote (95.00% of all seats); \
             35 tán thành (87.50%), 2 không tán thành (5.00%), 1 không biểu quyết (2.50%)."
        );
    }

    #[test]
    fn one_delegate_is_singular_in_english() {
        let sentence =
            |taking| official_sentence(&counts(40, taking, 0, 0), &Labels::default(), Lang::En);
        assert!(sentence(1).starts_with("1 delegate took part in the vote (2.50% "));
        assert!(sentence(0).starts_with("0 delegates took part"));
        assert!(sentence(2).starts_with("2 delegates took part"));
    }

    #[test]
    fn the_national_assemblys_example_rounds_half_up() {
        let c = counts(473, 437, 3, 8);
        assert_eq!(
            official_sentence(&c, &Labels::default(), Lang::Vi),
            "448 đại biểu tham gia biểu quyết (94,71% tổng số đại biểu); \
             437 tán thành (92,39%), 3 không tán thành (0,63%), 8 không biểu quyết (1,69%)."
        );
    }

    #[test]
    fn labels_are_lowered_only_at_the_first_letter() {
        assert_eq!(in_sentence("Đồng ý"), "đồng ý");
        assert_eq!(in_sentence("Yes"), "yes");
        assert_eq!(in_sentence("Ủng hộ UBND"), "ủng hộ UBND");
        assert_eq!(in_sentence(""), "");
    }

    #[test]
    fn rules_in_words() {
        let l = Labels::default();
        assert_eq!(
            describe_rule(&Rule::MAJORITY_OF_ALL_SEATS, &l, Lang::Vi),
            "trên 1/2 tổng số đại biểu"
        );
        assert_eq!(
            describe_rule(&Rule::MAJORITY_OF_ALL_SEATS, &l, Lang::En),
            "more than 1/2 of all seats"
        );
        let two_thirds_present = Rule {
            base: Base::Present,
            threshold: Threshold::AtLeastTwoThirds,
        };
        assert_eq!(
            describe_rule(&two_thirds_present, &l, Lang::Vi),
            "ít nhất 2/3 số đại biểu có mặt"
        );
        let yes_no = Rule {
            base: Base::YesNo,
            threshold: Threshold::MoreThanHalf,
        };
        assert_eq!(
            describe_rule(&yes_no, &l, Lang::Vi),
            "trên 1/2 tổng số phiếu tán thành và không tán thành"
        );
    }

    /// The templates of `key` in the web apps' words, in file order: the
    /// quoted string after the key, or for an entry with plural forms
    /// (`{ count, one, other }`) its `one` and then its `other`.
    fn web_words(file: &str, key: &str) -> Vec<String> {
        let path = format!("{}/../server/web/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let quoted_after = |text: &str, label: &str| {
            let rest = &text[text.find(label).expect(label) + label.len()..];
            let open = rest.find('"').expect("a quoted template") + 1;
            let close = open + rest[open..].find('"').expect("a closing quote");
            rest[open..close].to_owned()
        };
        let needle = format!("\"{key}\":");
        text.match_indices(&needle)
            .flat_map(|(at, _)| {
                let rest = text[at + needle.len()..].trim_start();
                if rest.starts_with('{') {
                    vec![quoted_after(rest, "one:"), quoted_after(rest, "other:")]
                } else {
                    vec![quoted_after(rest, "")]
                }
            })
            .collect()
    }

    fn fill(template: &str, vars: &[(&str, String)]) -> String {
        vars.iter().fold(template.to_owned(), |t, (name, value)| {
            t.replace(&format!("{{{name}}}"), value)
        })
    }

    /// The hall screen and the chair's console show the same sentence as the
    /// minutes, word for word: `server/web/common/i18n.js` holds
    /// `result.official` for vi, then en in its two forms, for one delegate
    /// and for more (`officialSentence` in `common/protocol.js` fills it).
    #[test]
    fn the_web_apps_say_the_same() {
        let l = Labels::default();
        let templates = web_words("common/i18n.js", "result.official");
        assert_eq!(templates.len(), 3, "{templates:?}");
        let cases = [
            (Lang::Vi, counts(40, 35, 2, 1)),
            (Lang::En, counts(40, 0, 1, 0)),
            (Lang::En, counts(40, 35, 2, 1)),
        ];
        for (template, (lang, c)) in templates.iter().zip(cases) {
            let pct = |n| lang.percent(n, 40);
            let vars = [
                ("taking", c.taking_part().to_string()),
                ("taking_pct", pct(c.taking_part())),
                ("yes", c.yes.to_string()),
                ("yes_label", in_sentence(&l.yes)),
                ("yes_pct", pct(c.yes)),
                ("no", c.no.to_string()),
                ("no_label", in_sentence(&l.no)),
                ("no_pct", pct(c.no)),
                ("abstain", c.abstain.to_string()),
                ("abstain_label", in_sentence(&l.abstain)),
                ("abstain_pct", pct(c.abstain)),
            ];
            assert_eq!(fill(template, &vars), official_sentence(&c, &l, lang));
        }
    }

    /// The web apps describe rules with the same words (`common/i18n.js`).
    #[test]
    fn the_web_apps_describe_rules_the_same() {
        let l = Labels::default();
        for (base, key) in [
            (Base::AllSeats, "rule.base.all_seats"),
            (Base::Present, "rule.base.present"),
            (Base::Cast, "rule.base.cast"),
        ] {
            let words = web_words("common/i18n.js", key);
            let more_than = web_words("common/i18n.js", "rule.more_than");
            let at_least = web_words("common/i18n.js", "rule.at_least");
            for (threshold, template) in [
                (Threshold::MoreThanHalf, &more_than[0]),
                (Threshold::AtLeastTwoThirds, &at_least[0]),
            ] {
                let (num, den, _) = threshold.as_fraction();
                let expected = fill(
                    template,
                    &[
                        ("fraction", format!("{num}/{den}")),
                        ("base", words[0].clone()),
                    ],
                );
                let rule = Rule { base, threshold };
                assert_eq!(describe_rule(&rule, &l, Lang::Vi), expected);
            }
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(true, Lang::Vi), "THÔNG QUA");
        assert_eq!(verdict(false, Lang::Vi), "KHÔNG THÔNG QUA");
        assert_eq!(verdict(false, Lang::En), "NOT PASSED");
    }
}
