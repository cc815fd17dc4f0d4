// A tiny element builder: the screen builds its DOM in code so that every
// text goes through `textContent` (names and titles come from the meeting's
// configuration and are never parsed as HTML).

/**
 * `h("div", {class: "x", testid: "count-yes", data: {state: "open"}}, ...children)`.
 * Null, undefined and false props or children are skipped, so optional parts
 * can be written inline.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "testid") el.dataset.testid = value;
    else if (key === "data") Object.assign(el.dataset, value);
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * A translated sentence with elements in its {placeholders}: the translator
 * keeps the word order of each language, and numbers stay addressable
 * elements (the browser tests read them by `data-testid`).
 */
export function sentence(t, key, nodes) {
  const marks = Object.fromEntries(Object.keys(nodes).map((name) => [name, `{${name}}`]));
  return t(key, marks)
    .split(/(\{\w+\})/)
    .filter(Boolean)
    .map((part) => {
      const name = part.match(/^\{(\w+)\}$/)?.[1];
      return name && name in nodes ? nodes[name] : part;
    });
}

/** Sets an element's text only when it changed, so a timer can call it freely. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
