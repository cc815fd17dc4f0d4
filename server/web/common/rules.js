// The pass rules and the percentages, in JavaScript: the arithmetic of
// protocol/src/rules.rs, checked against protocol/vectors/rules.json (which
// the Rust crate is checked against too) by rules.test.mjs. The server
// decides every result; the apps use these to show what a rule needs while
// a vote is under way, and to print results as the minutes do.

/** The named thresholds as fractions; a `{ fraction }` threshold gives its own. */
const FRACTIONS = {
  more_than_half: { num: 1, den: 2, strict: true },
  at_least_two_thirds: { num: 2, den: 3, strict: false },
  at_least_three_quarters: { num: 3, den: 4, strict: false },
};

/** A threshold as `{ num, den, strict }`: strict means the yes votes must exceed num/den of the base. */
export function thresholdFraction(threshold) {
  return FRACTIONS[threshold] ?? threshold.fraction;
}

/** The delegates who took part in a vote: every ballot counts, whatever its choice. */
export function takingPart(counts) {
  return counts.yes + counts.no + counts.abstain;
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

/** The smallest number of yes votes that passes with these counts; never below one. */
export function yesNeeded(rule, counts) {
  const { num, den, strict } = thresholdFraction(rule.threshold);
  const product = num * baseValue(rule, counts);
  return strict ? Math.floor(product / den) + 1 : Math.max(1, Math.ceil(product / den));
}

/** Whether these counts pass. A base of zero never passes: nothing was decided. */
export function passes(rule, counts) {
  return baseValue(rule, counts) > 0 && counts.yes >= yesNeeded(rule, counts);
}

/** A rule in words, e.g. "trên 1/2 tổng số đại biểu". */
export function describeRule(rule, t) {
  const { num, den, strict } = thresholdFraction(rule.threshold);
  return t(strict ? "rule.more_than" : "rule.at_least", { fraction: `${num}/${den}`, base: t(`rule.base.${rule.base}`) });
}

/** `part` of `total` in hundredths of a percent, rounded half up, as the server and the minutes compute it. */
export function percentHundredths(part, total) {
  if (!total) return 0;
  return Math.floor((part * 10000 * 2 + total) / (2 * total));
}

/** "52,50%" (Vietnamese) or "52.50%" (English): always of the total seats. */
export function formatPercent(part, total, lang) {
  const h = percentHundredths(part, total);
  const sep = lang === "en" ? "." : ",";
  return `${Math.floor(h / 100)}${sep}${String(h % 100).padStart(2, "0")}%`;
}
