// How the apps group the agenda: the meeting file lists items under topics,
// and every app shows consecutive items of one topic under one heading.

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
