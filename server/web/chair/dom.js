// A small helper to build DOM without innerHTML, so names and titles from
// the meeting are always text, never markup.

/**
 * `el("li", {class: "x", dataset: {status: "passed"}}, "text", child)`.
 * Attributes with `null`/`undefined`/`false` values are left out.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
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

/** Sets text only when it changes, so frequent tally updates do not churn the DOM. */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

export const $ = (id) => document.getElementById(id);
