// How the apps build their DOM: in code, without innerHTML, so names and
// titles from the meeting's configuration are always text, never markup,
// and without inline style attributes, which the Content-Security-Policy
// forbids (widths are set through the CSSOM, `node.style.width = …`).

/**
 * `h("li", { class: "x", "data-testid": "count-yes", dataset: { status: "passed" } }, "text", child)`.
 * Attributes that are `null`, `undefined` or `false` are left out and `true`
 * is an empty attribute; children are flattened, and `null`, `undefined`
 * and `false` children skipped, so optional parts can be written inline.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** Sets an attribute, or removes it for `null`/`undefined`, only when it changes. */
export function setAttr(node, name, value) {
  if (value === null || value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/** Sets text only when it changes, so a timer or a stream of tallies can call it freely. */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

export const $ = (id) => document.getElementById(id);

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
