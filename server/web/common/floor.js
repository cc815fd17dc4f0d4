// Who has the floor and who waits, in words every app shares: the
// speaker's name and what to show under it (a seat, a post, whom a
// question is put to). Names and topics are always set as text.

/** The roster's name of `seat`, or "" if the view does not have it. */
function seatName(meeting, seat) {
  return meeting?.seats.find((s) => s.number === seat)?.name ?? "";
}

/** The speaker of `request`: `{ name, detail }`, detail being the seat or the post. */
export function speakerOf(t, meeting, request) {
  const speaker = request.speaker;
  if (speaker.seat != null) return { name: seatName(meeting, speaker.seat), detail: t("floor.seat", { seat: speaker.seat }) };
  if (speaker.respondent != null) {
    const r = meeting?.respondents?.[speaker.respondent];
    return { name: r?.name ?? "", detail: r?.post ?? "" };
  }
  return { name: speaker.guest?.name ?? "", detail: speaker.guest?.post ?? "" };
}

/**
 * Whom a question (or its follow-up) is put to: a line under the speaker,
 * or "" for any other turn (an answer's speaker is the respondent).
 */
export function putTo(t, meeting, request) {
  if (request.respondent == null || request.kind === "answer") return "";
  const r = meeting?.respondents?.[request.respondent];
  return r ? t("floor.put_to", { name: r.name, post: r.post }) : "";
}

/** This seat's place in the queue and how many wait, or null if it waits for nothing. */
export function placeOf(floor, seat) {
  const found = floor?.places.find((p) => p.seat === seat);
  return found ? { place: found.place, waiting: floor.waiting } : null;
}
