// PDF pages drawn with pdf.js, for every app that shows a document: the
// tablet's reader and the hall screen's presented page. The pinned copy in
// /common/pdfjs/ comes with its character maps and standard fonts, so
// Vietnamese text renders with no internet.

import { GlobalWorkerOptions, PDFWorker, RenderingCancelledException, getDocument } from "./pdfjs/pdf.min.mjs";

const PDFJS = new URL("./pdfjs/", import.meta.url).href;
/** pdf.js's worker script, which the tablet keeps for reading offline. */
export const PDF_WORKER = `${PDFJS}pdf.worker.min.mjs`;
GlobalWorkerOptions.workerSrc = PDF_WORKER;
/**
 * One parser for the page's life, started as the page loads: a worker
 * started later would need the network to load its script, and a tablet's
 * document must open with the network down.
 */
const worker = new PDFWorker({ name: "gavel-pdf" });

/** Starts loading a PDF from its bytes; the task's `promise` gives the document, `destroy()` ends it. */
export function loadPdf(data) {
  return getDocument({
    data,
    worker,
    cMapUrl: `${PDFJS}cmaps/`,
    cMapPacked: true,
    standardFontDataUrl: `${PDFJS}standard_fonts/`,
    // The image decoders' plain-script fallbacks: WebAssembly would need 'wasm-unsafe-eval'.
    wasmUrl: `${PDFJS}wasm/`,
    useWasm: false,
    enableXfa: false,
  });
}

/**
 * Starts drawing `page` (a pdf.js page) at `viewport` on a new canvas sized
 * for the screen's pixel density, so that text stays sharp on a tablet and
 * a projector alike. Returns the canvas and pdf.js's render task.
 */
export function pageCanvas(page, viewport) {
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${Math.floor(viewport.width)}px`;
  canvas.style.height = `${Math.floor(viewport.height)}px`;
  const task = page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport, transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0] });
  return { canvas, task };
}

/** Waits for a render task: true once drawn, false if a later draw cancelled it. */
export async function rendered(task) {
  try {
    await task.promise;
    return true;
  } catch (error) {
    if (error instanceof RenderingCancelledException) return false;
    throw error;
  }
}
