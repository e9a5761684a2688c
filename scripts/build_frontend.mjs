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
//   static/build/plotly/plotly-<name>.js  partial plotly.js bundles (static/src/plotly-bundles.json)
//
// Idempotent: static/build/ is deleted and recreated on every run.
// Exits non-zero on any error.

import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlibConstants, gzipSync } from "node:zlib";

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

// plotly.js must be the version the Python plotly package bundles (figures are built for it).
async function plotlyVersions() {
  const npm = JSON.parse(await readFile(path.join(ROOT, "node_modules", "plotly.js", "package.json"), "utf8")).version;
  let python = null;
  const venvLib = path.join(ROOT, ".venv", "lib");
  for (const dir of await readdir(venvLib).catch(() => [])) {
    const file = path.join(venvLib, dir, "site-packages", "plotly", "package_data", "plotly.min.js");
    const head = await readFile(file, "utf8").then((t) => t.slice(0, 400)).catch(() => "");
    const found = /plotly\.js v(\d+\.\d+\.\d+)/.exec(head);
    if (found) python = found[1];
  }
  if (python && python !== npm) {
    throw new Error(`npm plotly.js is ${npm} but the Python plotly package bundles ${python}: pin plotly.js to ${python}`);
  }
  return { npm, python };
}

// One bundle per entry of plotly-bundles.json: plotly's core (which holds scatter) and the
// trace types listed, as a classic script that sets window.Plotly.
async function plotlyBundles() {
  const spec = JSON.parse(await readFile(path.join(SRC_DIR, "plotly-bundles.json"), "utf8"));
  const outDir = path.join(BUILD_DIR, "plotly");
  const made = [];
  for (const [name, traces] of Object.entries(spec.bundles)) {
    const extra = traces.filter((t) => t !== "scatter");
    const lines = [
      'import Plotly from "plotly.js/lib/core";',
      ...extra.map((t, i) => `import t${i} from "plotly.js/lib/${t}";`),
      `Plotly.register([${extra.map((_, i) => `t${i}`).join(", ")}]);`,
      `Plotly.descentBundle = ${JSON.stringify(name)};`,
      `Plotly.descentTraces = ${JSON.stringify(traces)};`,
      "window.Plotly = Plotly;",
    ];
    const outfile = path.join(outDir, `plotly-${name}.js`);
    await esbuild.build({
      stdin: { contents: lines.join("\n"), resolveDir: ROOT, sourcefile: `plotly-${name}-entry.js` },
      outfile,
      bundle: true,
      format: "iife",
      platform: "browser",
      target: "es2017",
      minify: true,
      legalComments: "none",
      logLevel: "warning",
      absWorkingDir: ROOT,
      // As plotly.js's own esbuild-config.js: no Node globals, one regl, no map CSS (no map traces).
      define: { global: "window", "define.amd": "false", "process.env.NODE_DEBUG": "false" },
      alias: { regl: "@plotly/regl" },
      loader: { ".css": "empty" },
    });
    made.push(outfile);
  }
  return made;
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

  const versions = await plotlyVersions();
  for (const file of await plotlyBundles()) await report(file, `  (plotly.js ${versions.npm})`);
  const plotlyDir = path.join(BUILD_DIR, "plotly");
  const bundles = (await readdir(plotlyDir)).map((f) => path.join(plotlyDir, f));
  await precompress([editor.outfile, math.outfile, katex.cssOut, ...bundles]);
}

// Brotli and gzip copies beside each script and stylesheet, made once here at the highest
// levels, so the server sends them as they are instead of compressing megabytes per request.
async function precompress(files) {
  let raw = 0;
  let br = 0;
  for (const file of files) {
    const buf = await readFile(file);
    const brotli = brotliCompressSync(buf, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } });
    await writeFile(`${file}.br`, brotli);
    await writeFile(`${file}.gz`, gzipSync(buf, { level: 9 }));
    raw += buf.length;
    br += brotli.length;
  }
  console.log(`precompressed ${files.length} files: ${fmtSize(raw)} -> ${fmtSize(br)} brotli`);
}

main().catch((err) => {
  // esbuild has already printed its own diagnostics for build failures.
  console.error(`build_frontend: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
