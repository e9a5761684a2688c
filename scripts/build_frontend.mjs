#!/usr/bin/env node
// Build Descent's front-end assets into static/build/ (generated, not committed).
//
//   npm ci && node scripts/build_frontend.mjs
//
// Outputs:
//   static/build/editor.js             CodeMirror 6 Python editor (ESM, minified)
//   static/build/math.js               KaTeX auto-render wrapper (ESM, minified)
//   static/build/katex/katex.min.css   KaTeX stylesheet
//   static/build/katex/fonts/*         fonts referenced by the stylesheet
//
// Idempotent: static/build/ is deleted and recreated on every run.
// Exits non-zero on any error.

import { copyFile, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC_DIR = path.join(ROOT, "static", "src");
const BUILD_DIR = path.join(ROOT, "static", "build");
const require = createRequire(import.meta.url);

const rel = (p) => path.relative(ROOT, p).split(path.sep).join("/");

function fmtSize(bytes) {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

async function report(file, extra = "") {
  const buf = await readFile(file);
  const gz = gzipSync(buf).length;
  console.log(`${rel(file).padEnd(36)} ${fmtSize(buf.length).padStart(10)}  (gzip ${fmtSize(gz)})${extra}`);
}

// Fail if a package ended up in a bundle from more than one directory
// (e.g. two copies of @codemirror/state break its instanceof checks).
function assertSingleCopy(metafile, pkg, outName) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const norm = input.split(path.sep).join("/");
    const idx = norm.lastIndexOf(`node_modules/${pkg}/`);
    if (idx !== -1) dirs.add(norm.slice(0, idx + `node_modules/${pkg}`.length));
  }
  if (dirs.size > 1) {
    throw new Error(`${outName}: ${dirs.size} copies of ${pkg} bundled:\n  ${[...dirs].join("\n  ")}`);
  }
}

async function bundle(name) {
  const outfile = path.join(BUILD_DIR, name);
  const result = await esbuild.build({
    entryPoints: [path.join(SRC_DIR, name)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    minify: true,
    metafile: true,
    logLevel: "warning",
    absWorkingDir: ROOT,
  });
  if (result.errors.length) throw new Error(`${name}: esbuild reported errors`);
  return { outfile, metafile: result.metafile };
}

async function copyKatexAssets() {
  // require.resolve("katex") -> <katex>/dist/katex.js ; the CSS and fonts live beside it.
  const distDir = path.dirname(require.resolve("katex"));
  const outDir = path.join(BUILD_DIR, "katex");
  const fontsOut = path.join(outDir, "fonts");
  await mkdir(fontsOut, { recursive: true });

  const cssOut = path.join(outDir, "katex.min.css");
  await copyFile(path.join(distDir, "katex.min.css"), cssOut);

  const fontsSrc = path.join(distDir, "fonts");
  const fonts = (await readdir(fontsSrc, { withFileTypes: true })).filter((e) => e.isFile());
  if (fonts.length === 0) throw new Error(`no fonts found in ${fontsSrc}`);
  let total = 0;
  for (const f of fonts) {
    await copyFile(path.join(fontsSrc, f.name), path.join(fontsOut, f.name));
    total += (await stat(path.join(fontsOut, f.name))).size;
  }

  // Every fonts/... URL in the stylesheet must resolve to a copied file.
  const css = await readFile(cssOut, "utf8");
  const urls = [...css.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)].map((m) => m[1]);
  const copied = new Set(fonts.map((f) => `fonts/${f.name}`));
  const missing = urls.filter((u) => !copied.has(u));
  if (missing.length) throw new Error(`katex.min.css references missing files: ${missing.join(", ")}`);

  return { cssOut, fontsOut, fontCount: fonts.length, fontBytes: total };
}

async function main() {
  await rm(BUILD_DIR, { recursive: true, force: true });
  await mkdir(BUILD_DIR, { recursive: true });

  const editor = await bundle("editor.js");
  for (const pkg of ["@codemirror/state", "@codemirror/view", "@codemirror/language", "@lezer/common"]) {
    assertSingleCopy(editor.metafile, pkg, "editor.js");
  }
  await report(editor.outfile);

  const math = await bundle("math.js");
  assertSingleCopy(math.metafile, "katex", "math.js");
  await report(math.outfile);

  const katex = await copyKatexAssets();
  await report(katex.cssOut);
  console.log(
    `${(rel(katex.fontsOut) + "/").padEnd(36)} ${fmtSize(katex.fontBytes).padStart(10)}  (${katex.fontCount} files)`,
  );
}

main().catch((err) => {
  // esbuild has already printed its own diagnostics for build failures.
  console.error(`build_frontend: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
