// The presented page: a page of one of the meeting's documents that the
// chair puts before the hall, drawn as large as the stage allows, under a
// line with the document's kind, title and page. A watcher is only shown a
// public document (PROTOCOL.md §9.7), so it fetches it without a token.
// A page turn redraws in place; another document is another view.

import { loadPdf, pageCanvas, rendered } from "../common/pdf.js";
import { documentUrl } from "../common/protocol.js";
import { h, setText } from "../common/dom.js";

export function presentedView(ctx, scene) {
  const { t, meeting } = ctx;
  const doc = scene.document;
  const page = h("span", { class: "presented-page", "data-testid": "screen-presented-page" });
  const sheet = h("div", { class: "presented-sheet", "data-testid": "screen-presented-sheet" });
  const el = h(
    "div",
    { class: "presented" },
    h(
      "div",
      { class: "presented-caption" },
      h("span", { class: "presented-kind" }, t(`document.kind.${doc.kind}`)),
      h("span", { class: "presented-title" }, doc.title),
      page,
    ),
    sheet,
  );
  let shown = ""; // the page and size last drawn
  let drawing = 0;
  let task = null;
  let closed = false;
  let pdfTask = null; // pdf.js's loading task, destroyed with the view
  const loading = (async () => {
    const response = await fetch(documentUrl(meeting.id, doc, null));
    if (!response.ok) throw new Error(`document ${doc.sha256}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (closed) throw new Error("the view was closed");
    pdfTask = loadPdf(bytes);
    return pdfTask.promise;
  })();

  async function draw(n) {
    const turn = ++drawing;
    const pdf = await loading;
    const pdfPage = await pdf.getPage(Math.min(Math.max(1, n), pdf.numPages));
    if (turn !== drawing) return;
    const natural = pdfPage.getViewport({ scale: 1 });
    const scale = Math.min(sheet.clientWidth / natural.width, sheet.clientHeight / natural.height);
    task?.cancel();
    const drawn = pageCanvas(pdfPage, pdfPage.getViewport({ scale: Math.max(0.1, scale) }));
    task = drawn.task;
    if (!(await rendered(task)) || turn !== drawing) return;
    sheet.replaceChildren(drawn.canvas);
    sheet.dataset.page = String(n);
  }

  return {
    el,
    update(next) {
      const { page: n, pages } = next.presentation;
      setText(page, t("present.page", { page: n, pages }));
      // Drawn once the stage has its size, and again when the page or the size changes.
      const wanted = `${n}|${sheet.clientWidth}x${sheet.clientHeight}`;
      if (!sheet.isConnected || sheet.clientHeight === 0 || wanted === shown) return;
      shown = wanted;
      draw(n).catch(() => {
        shown = "";
        sheet.dataset.state = "failed";
      });
    },
    close() {
      closed = true;
      drawing++;
      task?.cancel();
      pdfTask?.destroy();
    },
  };
}
