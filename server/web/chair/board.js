// The counting board's panel: while a secret round's result is provisional
// the chair sees its counts, which members of the board have confirmed them
// on their tablets and when, and the button that announces the result.
// Until then the hall screen and the delegates see the ballots returned only.

import { isPaperResult, officialSentence, paperSentences } from "../common/protocol.js";
import { clockText } from "../common/countdown.js";
import { paperTable } from "../common/papers.js";
import { $, h, setText } from "../common/dom.js";

/** The last round, while its result awaits the board and the announcement. */
function provisionalRound(snapshot) {
  const round = snapshot.round;
  return round?.status === "closed" && round.board && round.board.announced_at === null ? round : null;
}

/** What the provisional result says, in the words the agenda and minutes use. */
function resultLines(view, round) {
  const { t, lang, meeting } = view;
  const { result } = round;
  if (!result) return [];
  if (isPaperResult(result)) return paperSentences(t, result, meeting.agenda[round.item]?.paper, lang);
  return [officialSentence(t, result.counts, meeting.labels, lang), t(result.passed ? "result.passed" : "result.notPassed")];
}

/** What the board's table was last drawn for; redrawn only when the result or the language changes. */
let drawnTable = "";

/** A result on a list also as its official table, so the chair checks each row before announcing it. */
function renderBoardTable(view, round) {
  const { t, lang, meeting } = view;
  const paper = isPaperResult(round.result) ? round.result : null;
  const box = $("board-table");
  box.hidden = !paper;
  const key = JSON.stringify([lang, round.id, paper]);
  if (!paper || key === drawnTable) return;
  drawnTable = key;
  box.replaceChildren(paperTable(t, paper, meeting.agenda[round.item]?.paper, lang, { testid: "board-paper-table" }));
}

export function renderBoard(view) {
  const round = provisionalRound(view.snapshot);
  const panel = $("board-panel");
  panel.hidden = !round;
  // The board's panel stands in for the tally of the item it is about.
  $("live-tally").hidden = Boolean(round) && round.item === view.index;
  if (!round) return;
  const { t, meeting } = view;
  const { board } = round;
  panel.dataset.confirmed = String(board.confirmed.length);
  $("board-result").replaceChildren(...resultLines(view, round).map((line) => h("li", {}, line)));
  renderBoardTable(view, round);
  setText($("board-progress"), t("board.progress", { n: board.confirmed.length, required: board.required }));
  const confirmed = new Map(board.confirmed.map((c) => [c.seat, c.at]));
  $("board-members").replaceChildren(
    ...board.members.map((seat) => {
      const at = confirmed.get(seat);
      const name = meeting.seats.find((s) => s.number === seat)?.name ?? "";
      return h(
        "li",
        { dataset: { seat: String(seat), confirmed: String(at !== undefined) } },
        h("span", {}, t("board.member", { name, seat })),
        h("small", {}, at === undefined ? t("board.waiting") : t("board.confirmedAt", { time: clockText(at) })),
      );
    }),
  );
  $("announce-result").disabled = !view.ready || Boolean(view.busy);
}
