// KaTeX math typesetting for Descent lessons.
//
// Bundled by scripts/build_frontend.mjs into static/build/math.js (ES module).
// The page must also link /static/build/katex/katex.min.css.
//
//   import { typeset } from "/static/build/math.js";
//   typeset(document.querySelector("#lesson"));

import renderMathInElement from "katex/contrib/auto-render";

// Order matters: `$$` (display) must be tried before `$` (inline).
const DELIMITERS = [
  { left: "$$", right: "$$", display: true },
  { left: "$", right: "$", display: false },
];

// auto-render's default ignored tags, listed explicitly (includes pre, code, textarea).
const IGNORED_TAGS = ["script", "noscript", "style", "textarea", "pre", "code", "option"];

/**
 * Render `$...$` (inline) and `$$...$$` (display) math inside `element`.
 * Skips <pre>, <code>, <textarea> and anything with class "no-math".
 * Invalid TeX is shown in red instead of throwing.
 *
 * @param {Element} [element=document.body]
 */
export function typeset(element = document.body) {
  if (!element) return;
  renderMathInElement(element, {
    delimiters: DELIMITERS,
    throwOnError: false,
    ignoredTags: IGNORED_TAGS,
    ignoredClasses: ["no-math"],
  });
}
