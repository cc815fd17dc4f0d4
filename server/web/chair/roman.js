// The arithmetic and wording the chair's console shows next to a vote:
// what a rule needs right now (PROTOCOL.md §13). The server decides; these
// only let the chair see it coming.

import { labelInSentence, takingPart } from "../common/protocol.js";

const THRESHOLDS = {
  more_than_half: { num: 1, den: 2, strict: true },
  at_least_two_thirds: { num: 2, den: 3, strict: false },
  at_least_three_quarters: { num: 3, den: 4, strict: false },
};

function fraction(threshold) {
  return THRESHOLDS[threshold] ?? threshold.fraction;
}

/** What the rule measures yes votes against, given the counts. */
export function baseValue(rule, counts) {
  switch (rule.base) {
    case "all_seats":
      return counts.total_seats;
    case "present":
      return counts.present;
    case "cast":
      return takingPart(counts);
    case "yes_no":
      return counts.yes + counts.no;
    default:
      throw new Error(`unknown rule base ${rule.base}`);
  }
}

/** How many yes votes the rule needs with these counts, as the server computes it. */
export function yesNeeded(rule, counts) {
  const { num, den, strict } = fraction(rule.threshold);
  const base = baseValue(rule, counts);
  return strict ? Math.floor((num * base) / den) + 1 : Math.max(1, Math.ceil((num * base) / den));
}

/** Whether these counts would pass under the rule if the vote closed now. */
export function wouldPass(rule, counts) {
  return baseValue(rule, counts) > 0 && counts.yes >= yesNeeded(rule, counts);
}

/** A vote label inside a sentence: "Tán thành" reads "tán thành" mid-sentence in Vietnamese. */
export function inSentence(label, lang) {
  return lang === "vi" ? labelInSentence(label, lang) : label;
}

/** A name short enough for a seat tile: the given name, the last word ("Thắng"), as colleagues say it. */
export function shortName(name) {
  return name.trim().split(/\s+/).at(-1);
}

/** Topic numbers as the council's papers write them: I, II, III… */
export function roman(n) {
  const parts = [
    [100, "C"],
    [90, "XC"],
    [50, "L"],
    [40, "XL"],
    [10, "X"],
    [9, "IX"],
    [5, "V"],
    [4, "IV"],
    [1, "I"],
  ];
  let out = "";
  for (const [value, letters] of parts) {
    while (n >= value) {
      out += letters;
      n -= value;
    }
  }
  return out;
}

/** "1:05" for 65 seconds; never negative. */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
