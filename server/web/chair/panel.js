// The centre of the console: the current item with its vote settings and
// controls, and the tally — live while a round is open, the committed
// result (in the official wording) once it has closed.

import { CHOICES, byHandLine, byHandOf, isPaperResult, labelInSentence, officialSentence, paperSentences } from "../common/protocol.js";
import { paperTable } from "../common/papers.js";
import { countdownText, isPaused, secondsLeft, shareLeft, URGENT_SECONDS } from "../common/countdown.js";
import { describeRule, formatPercent, passes, takingPart, yesNeeded } from "../common/rules.js";
import { $, h, setAttr, setText } from "../common/dom.js";
import { versionsText } from "../common/agenda.js";

/** An item's states once a vote has settled it: a paper on a list is counted, not passed. */
const DECIDED = ["passed", "not_passed", "counted"];

/**
 * How many yes votes the rule needs before any ballot is cast, when that is
 * already known (rules on all seats or on those present); otherwise null.
 */
function neededBeforeVoting(rule, view) {
  if (rule.base !== "all_seats" && rule.base !== "present") return null;
  const counts = { total_seats: view.meeting.total_seats, present: view.snapshot.present, yes: 0, no: 0, abstain: 0 };
  return yesNeeded(rule, counts);
}

function settingsChips(view, settings) {
  const { t, lang, meeting } = view;
  // A paper on a list is counted per candidate or official, not passed by yes votes.
  const yesNo = !view.item?.paper;
  const needed = yesNo ? neededBeforeVoting(settings.rule, view) : null;
  const yes = labelInSentence(meeting.labels.yes, lang);
  return [
    yesNo ? h("li", { class: "chip chip-rule" }, t("settings.rule", { rule: describeRule(settings.rule, t), yes })) : null,
    needed === null ? null : h("li", { class: "chip chip-needed" }, t("tally.needed", { needed, yes })),
    h("li", { class: `chip chip-${settings.secrecy}` }, t(`secrecy.${settings.secrecy}`)),
    h("li", { class: "chip" }, t(`settings.interim.${settings.interim}`)),
    h("li", { class: "chip" }, t(settings.allow_change ? "settings.change.yes" : "settings.change.no")),
  ].filter(Boolean);
}

/** The settings chips change only with the item, its round or the language; redrawing them per tally would churn. */
let drawnSettings = "";

function renderSettings(view) {
  const settings = view.open?.settings ?? view.item?.vote ?? null;
  const key = JSON.stringify([view.lang, view.index, settings, view.snapshot.present]);
  if (key === drawnSettings) return;
  drawnSettings = key;
  $("item-settings").replaceChildren(...(settings ? settingsChips(view, settings) : []));
}

function renderHeading(view) {
  const { t, item, index, meeting } = view;
  setText($("item-position"), item ? t("item.position", { n: index + 1, count: meeting.agenda.length }) : "");
  setText($("item-topic"), item?.topic ?? "");
  setText($("current-item-title"), item ? item.title : t("item.none"));
  const hint = !item ? t("item.noneHint") : item.vote ? "" : t("item.noVote");
  setText($("item-hint"), hint);
  $("item-hint").hidden = !hint;
}

/** Which controls fit the moment: open/next before and after a vote; extend/pause or resume/close/void during one. */
function renderControls(view) {
  const { t, item, index, state, open, meeting } = view;
  const idle = !view.ready || view.busy;
  $("idle-controls").hidden = Boolean(open);
  $("open-controls").hidden = !open;

  $("window-seconds").closest("label").hidden = !item?.vote;
  $("open-vote").hidden = !item?.vote;
  // A secret result the counting board is confirming is announced before another vote opens.
  const round = view.snapshot.round;
  const awaiting = round?.status === "closed" && round.board?.announced_at === null;
  $("open-vote").disabled = idle || Boolean(open) || awaiting;
  const revote = state && (DECIDED.includes(state.status) || state.status === "voided");
  setText($("open-vote-label"), t(revote ? "vote.revote" : "vote.open"));
  $("next-item").disabled = idle || Boolean(open) || index === meeting.agenda.length - 1;
  // The likely next step stands out: voting on an undecided (or voided) item, otherwise moving on.
  const voteNext = Boolean(item?.vote) && !DECIDED.includes(state?.status);
  $("open-vote").classList.toggle("btn-primary", voteNext);
  $("next-item").classList.toggle("btn-primary", !voteNext);

  // Extending, closing and voiding work on a paused round as on a running one.
  const paused = isPaused(open);
  $("pause-vote").hidden = paused;
  $("resume-vote").hidden = !paused;
  for (const id of ["extend-vote", "extend-custom", "pause-vote", "resume-vote", "close-vote", "void-vote"]) $(id).disabled = idle || !open;
}

/** Keeps the window input at the item's default whenever the chair moves to another item. */
let windowItem = undefined;

function renderWindowDefault(view) {
  if (view.index === windowItem) return;
  windowItem = view.index;
  $("window-seconds").value = view.item?.vote?.window_seconds ?? "";
}

/**
 * The versions of the item's documents the open round is about, as every
 * ballot signs them: a replaced document cannot be voted on unseen, and
 * the chair can read out what the hall votes on.
 */
function renderVersions(view) {
  const text = versionsText(view.t, view.open?.versions, view.item);
  setText($("round-versions"), text);
  $("round-versions").hidden = !text;
}

export function renderItemPanel(view) {
  renderHeading(view);
  renderSettings(view);
  renderVersions(view);
  renderWindowDefault(view);
  renderControls(view);
}

/**
 * What the console's clock shows of the open round at server time `now`:
 * the time left, and "closing" once it is up (the server closes the round).
 * A paused round shows the time it keeps for the resume, neither urgent
 * nor closing, since it cannot run out while held.
 */
export function clockFace(open, now) {
  const left = secondsLeft(open, now);
  const paused = isPaused(open);
  return {
    paused,
    closing: !paused && left <= 0,
    urgent: !paused && left <= URGENT_SECONDS,
    text: countdownText(left),
    label: paused ? "vote.paused" : "vote.remaining",
    share: shareLeft(open, now),
  };
}

/** The countdown alone, every quarter second, from the server's clock. */
export function renderCountdown(view) {
  const open = view?.open;
  if (!open) return;
  const face = clockFace(open, view.session.serverNow());
  const countdown = $("countdown");
  setText(countdown, face.closing ? view.t("vote.closing") : face.text);
  setText($("countdown-label"), view.t(face.label));
  countdown.classList.toggle("urgent", face.urgent);
  countdown.classList.toggle("closing", face.closing);
  $("countdown-box").classList.toggle("paused", face.paused);
  setAttr(countdown, "data-paused", face.paused);
  $("countdown-fill").style.width = `${face.share * 100}%`;
}

/**
 * What the tally panel shows: "live" counts of an open named round; only
 * the "turnout" of an open secret round; the "result" of the current item,
 * or its "paper" result (a ballot on a list, counted and announced);
 * "voided"; or "idle" before any vote.
 *
 * In a secret round the chair sees who has voted; seeing the counts move at
 * the same moment would tell which way each delegate voted, so the counts
 * wait for the committed result.
 */
function tallySource(view) {
  const { open, state } = view;
  if (open) {
    const live = open.live;
    const mode = open.settings.secrecy === "named" && live?.counts ? "live" : "turnout";
    return { mode, rule: open.settings.rule, counts: mode === "live" ? live.counts : null, takingPart: live?.taking_part ?? 0 };
  }
  if (state?.status === "counted" && isPaperResult(state.result)) {
    return { mode: "paper", rule: null, counts: null, takingPart: state.result.turnout.papers, result: state.result };
  }
  if (state && DECIDED.includes(state.status) && state.result) {
    const { counts, rule } = state.result;
    return { mode: "result", rule, counts, takingPart: takingPart(counts), result: state.result };
  }
  return { mode: state?.status === "voided" ? "voided" : "idle", rule: null, counts: null, takingPart: 0 };
}

function choiceRow(view, choice, counts) {
  return h(
    "li",
    { class: `choice-row choice-${choice}`, dataset: { choice } },
    h("i", { class: "swatch", "aria-hidden": "true" }),
    h("span", { class: "choice-label", title: view.meeting.labels[choice] }, view.meeting.labels[choice]),
    h("b", { class: "choice-count" }, String(counts[choice])),
    h("span", { class: "choice-pct" }, formatPercent(counts[choice], counts.total_seats, view.lang)),
  );
}

/** How many yes votes pass the rule: from the counts when known, else only if the rule does not depend on them. */
function neededFor(view, source) {
  return source.counts ? yesNeeded(source.rule, source.counts) : neededBeforeVoting(source.rule, view);
}

/** The bar of all seats split by choice (or by who voted, in a secret round), with a gold mark at the yes votes needed. */
function renderBar(view, source, needed) {
  const total = view.meeting.total_seats || 1;
  const parts = source.counts
    ? CHOICES.map((choice) => [`choice-${choice}`, source.counts[choice]])
    : [["voted", source.takingPart]];
  $("bar-track").replaceChildren(
    ...parts.map(([kind, n]) => {
      const part = h("span", { class: `bar-part ${kind}` });
      // Through the CSSOM: the Content-Security-Policy forbids inline style attributes.
      part.style.width = `${(n / total) * 100}%`;
      return part;
    }),
  );
  const mark = $("bar-mark");
  mark.hidden = needed === null;
  if (needed === null) return;
  mark.style.left = `${Math.min(100, (needed / total) * 100)}%`;
  setText($("bar-mark-label"), view.t("tally.mark", { needed }));
}

function renderNumbers(view, source) {
  const { t, lang, snapshot, meeting } = view;
  // After closing, the official line says all of it; the space goes to the result.
  $("tally-numbers").hidden = source.mode === "result";
  if (source.mode === "result") return;
  setText($("tally-taking-part"), source.takingPart);
  setText($("tally-of"), t("tally.of", { total: meeting.total_seats }));
  setText($("tally-taking-pct"), formatPercent(source.takingPart, meeting.total_seats, lang));
  const voted = new Set(view.open.live?.voted ?? []);
  setText($("tally-to-vote"), (snapshot.present_seats ?? []).filter((seat) => !voted.has(seat)).length);
}

function renderDecision(view, source, needed) {
  const { t, lang, meeting } = view;
  const yes = labelInSentence(meeting.labels.yes, lang);
  const decision = $("decision");
  decision.hidden = source.mode === "result";
  if (source.mode === "live") {
    const enough = passes(source.rule, source.counts);
    setText(decision, t(enough ? "tally.enough" : "tally.short", { needed, yes, missing: needed - source.counts.yes }));
    setAttr(decision, "data-enough", enough);
  } else if (source.mode === "turnout") {
    setText(decision, t("tally.turnout"));
    setAttr(decision, "data-enough", null);
  }
  const official = $("official");
  const ruleLine = $("rule-line");
  official.hidden = ruleLine.hidden = source.mode !== "result";
  if (source.mode === "result") {
    const { result, counts } = source;
    setText(official, officialSentence(t, counts, meeting.labels, lang));
    setText(
      ruleLine,
      t("result.rule", { rule: describeRule(result.rule, t), base: result.base_value, needed: result.yes_needed, yes, got: counts.yes }),
    );
  }
  // A result the secretariat recorded by hand says so (PROTOCOL.md §9.8).
  const byHand = source.mode === "result" ? byHandOf(view.snapshot, view.snapshot?.current_item) : null;
  $("by-hand").hidden = !byHand;
  setText($("by-hand"), byHand ? byHandLine(t, byHand, lang) : "");
}

function renderBanner(view, source) {
  const banner = $("result-banner");
  banner.hidden = source.mode !== "result" && source.mode !== "paper";
  $("voided-banner").hidden = source.mode !== "voided";
  if (source.mode === "paper") {
    setAttr(banner, "data-passed", null);
    setAttr(banner, "class", "result-banner banner-counted");
    setText($("result-word"), view.t("status.counted"));
  }
  if (source.mode !== "result") return;
  const passed = source.result.passed;
  setAttr(banner, "data-passed", passed);
  setAttr(banner, "class", `result-banner ${passed ? "banner-passed" : "banner-not-passed"}`);
  setText($("result-word"), view.t(passed ? "result.passed" : "result.notPassed"));
}

/** What the paper result was last drawn for; redrawn only when it or the language changes. */
let drawnPaper = "";

/** A ballot on a list, counted and announced: what it came to and its official table. */
function renderPaper(view, source) {
  const box = $("paper-result");
  box.hidden = source.mode !== "paper";
  const { t, lang, item } = view;
  const key = JSON.stringify([lang, view.index, source.result]);
  if (source.mode !== "paper" || key === drawnPaper) return;
  drawnPaper = key;
  const { result } = source;
  // Counted by hand, the counting board's figures and the mark say so (PROTOCOL.md §9.8).
  const byHand = byHandOf(view.snapshot, view.index);
  $("paper-sentences").replaceChildren(...paperSentences(t, result, item?.paper, lang, byHand).map((line) => h("li", {}, line)));
  $("paper-table-box").replaceChildren(paperTable(t, result, item?.paper, lang, { testid: "chair-paper-table" }));
  setText($("paper-note"), t("paper.of_all", { total: result.turnout.total_seats }));
  $("paper-by-hand").hidden = !byHand;
  setText($("paper-by-hand"), byHand ? byHandLine(t, byHand, lang) : "");
}

/** The numbers on screen as attributes, for tests and assistive tools; counts are left out where they are not shown. */
function renderTallyAttributes(source) {
  const tally = $("live-tally");
  const counts = source.counts ?? (source.mode === "turnout" || source.mode === "paper" ? null : { yes: 0, no: 0, abstain: 0 });
  setAttr(tally, "data-mode", source.mode);
  for (const choice of CHOICES) setAttr(tally, `data-${choice}`, counts ? counts[choice] : null);
  setAttr(tally, "data-taking-part", source.takingPart);
}

export function renderTally(view) {
  const { t } = view;
  const source = tallySource(view);
  renderTallyAttributes(source);
  const open = source.mode === "live" || source.mode === "turnout";
  setText($("tally-heading"), t(open ? "tally.live" : "tally.final"));
  const secret = (view.open?.settings ?? view.item?.vote)?.secrecy === "secret";
  $("tally-secret").hidden = !secret || source.mode === "idle";
  setText($("tally-secret"), t("tally.secret"));
  renderBanner(view, source);
  renderPaper(view, source);
  const showBody = open || source.mode === "result";
  $("tally-body").hidden = !showBody;
  $("tally-idle").hidden = source.mode !== "idle";
  if (!showBody) return;
  const needed = neededFor(view, source);
  renderNumbers(view, source);
  renderBar(view, source, needed);
  renderDecision(view, source, needed);
  $("choice-rows").hidden = !source.counts;
  $("choice-rows").replaceChildren(...(source.counts ? CHOICES.map((choice) => choiceRow(view, choice, source.counts)) : []));
}
