#!/usr/bin/env bash
# Copies the pinned pdf.js (package.json, package-lock.json) into
# server/web/common/pdfjs/, where the binary embeds it: the module, its
# worker, the character maps and standard fonts that let Vietnamese text
# render with no internet, the image decoders' plain-JavaScript fallbacks,
# and the licences. To update: change the version in package.json, run
# `npm install` here to refresh the lock file, then this script, and commit
# all three with the copied files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../web/common/pdfjs"
cd "$here"
npm ci --ignore-scripts --omit=optional --no-audit --no-fund
dist="$here/node_modules/pdfjs-dist"
rm -rf "$out"
mkdir -p "$out/cmaps" "$out/standard_fonts" "$out/wasm"
cp "$dist/build/pdf.min.mjs" "$dist/build/pdf.worker.min.mjs" "$dist/LICENSE" "$out/"
cp "$dist"/cmaps/* "$out/cmaps/"
cp "$dist"/standard_fonts/* "$out/standard_fonts/"
# The WebAssembly decoders are left out: running them would need
# 'wasm-unsafe-eval' in the Content-Security-Policy. The fallbacks are plain scripts.
cp "$dist"/wasm/*_nowasm_fallback.js "$dist"/wasm/LICENSE_*JBIG2 "$dist"/wasm/LICENSE_*OPENJPEG "$out/wasm/"
node -p '"pdfjs-dist " + require("./node_modules/pdfjs-dist/package.json").version' > "$out/VERSION"
rm -rf "$here/node_modules"
echo "pdf.js $(cat "$out/VERSION") copied into $out"
