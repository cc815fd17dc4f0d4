// How the apps show the agenda: the meeting file lists items under topics,
// and every app shows consecutive items of one topic under one heading; an
// open round names the versions of its item's documents it is about, in the
// same words on the chair's console and the hall screen.

/** The agenda as consecutive runs of items under the same topic, in order: `[{ topic, items }]`. */
export function agendaByTopic(agenda) {
  const groups = [];
  for (const item of agenda) {
    const last = groups.at(-1);
    if (last && last.topic === item.topic) last.items.push(item);
    else groups.push({ topic: item.topic, items: [item] });
  }
  return groups;
}

/**
 * What a round is about, to be read out: the versions of the item's
 * documents it recorded when it opened (`round.versions`), as every ballot
 * signs them, each by its title and version number ("Voting on: … (version
 * 1); …"), or "" when it names none. A version the item no longer lists
 * (replaced since the round opened) shows as the start of its hash.
 */
export function versionsText(t, versions, item) {
  const named = (versions?.sha256 ?? []).map((sha) => {
    const document = item?.documents?.find((d) => d.sha256 === sha);
    return document ? t("round.version", { title: document.title, n: document.version }) : sha.slice(0, 12);
  });
  return named.length ? t("round.versions", { list: named.join("; ") }) : "";
}
