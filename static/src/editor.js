// CodeMirror 6 code editor for Descent lessons.
//
// Bundled by scripts/build_frontend.mjs into static/build/editor.js (ES module).
//
//   import { createEditor } from "/static/build/editor.js";
//   const ed = createEditor({
//     parent: document.querySelector("#code"),
//     doc: "print('hello')\n",
//     onRun: () => run(ed.getValue()),     // Shift-Enter
//     onChange: (text) => save(text),      // every document change
//   });
//   ed.getValue(); ed.setValue("x = 1\n"); ed.focus(); ed.view /* EditorView */

import { EditorState, Prec } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { python } from "@codemirror/lang-python";

// CodeMirror's default colours, darkened where they missed 4.5:1 contrast (WCAG AA) on the
// editor's white, its active line and the read-only cells' grey.
const highlightStyle = HighlightStyle.define([
  { tag: tags.meta, color: "#404740" },
  { tag: tags.link, textDecoration: "underline" },
  { tag: tags.heading, textDecoration: "underline", fontWeight: "bold" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strong, fontWeight: "bold" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: tags.keyword, color: "#708" },
  { tag: [tags.atom, tags.bool, tags.url, tags.contentSeparator, tags.labelName], color: "#219" },
  { tag: [tags.literal, tags.inserted], color: "#164" },
  { tag: [tags.string, tags.deleted], color: "#a11" },
  { tag: [tags.regexp, tags.escape, tags.special(tags.string)], color: "#b32d00" },
  { tag: tags.definition(tags.variableName), color: "#00f" },
  { tag: tags.local(tags.variableName), color: "#30a" },
  { tag: [tags.typeName, tags.namespace], color: "#007a4d" },
  { tag: tags.className, color: "#167" },
  { tag: [tags.special(tags.variableName), tags.macroName], color: "#256" },
  { tag: tags.definition(tags.propertyName), color: "#00c" },
  { tag: tags.comment, color: "#940" },
  { tag: tags.invalid, color: "#c00000" },
]);

// How long Tab keeps moving focus after keyboard focus lands in the editor: until the learner
// presses any other key (then Tab indents, and Escape then Tab leaves), or ten minutes.
const TAB_PASSES_MS = 10 * 60 * 1000;

const MONO_FONT =
  'ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace';

// Clean light theme. The editor grows with its content between ~3 lines and
// 28em (relative to the 14px font), then scrolls.
const lightTheme = EditorView.theme(
  {
    "&": {
      fontSize: "14px",
      color: "#1f2328",
      backgroundColor: "#ffffff",
      border: "1px solid #d0d7de",
      borderRadius: "6px",
      maxHeight: "28em",
    },
    "&.cm-focused": {
      outline: "none",
      borderColor: "#0969da",
      boxShadow: "0 0 0 3px rgba(9, 105, 218, 0.15)",
    },
    ".cm-scroller": {
      fontFamily: MONO_FONT,
      lineHeight: "1.5",
      overflow: "auto",
      borderRadius: "6px",
    },
    // 3 lines of 1.5em plus the content's 4px top/bottom padding.
    ".cm-content, .cm-gutter": {
      minHeight: "calc(4.5em + 8px)",
    },
    ".cm-content": {
      caretColor: "#1f2328",
    },
    ".cm-cursor, .cm-dropCursor": {
      borderLeftColor: "#1f2328",
    },
    ".cm-gutters": {
      backgroundColor: "#f6f8fa",
      color: "#5f6874",
      borderRight: "1px solid #e6e9ed",
      borderTopLeftRadius: "6px",
      borderBottomLeftRadius: "6px",
    },
    ".cm-lineNumbers .cm-gutterElement": {
      padding: "0 8px 0 12px",
    },
    ".cm-activeLine": {
      backgroundColor: "rgba(234, 238, 242, 0.55)",
    },
    ".cm-activeLineGutter": {
      backgroundColor: "#eaeef2",
      color: "#3d444d",
    },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
      {
        backgroundColor: "#b6d7ff",
      },
    "&.cm-focused .cm-matchingBracket": {
      backgroundColor: "rgba(9, 105, 218, 0.15)",
      outline: "1px solid rgba(9, 105, 218, 0.4)",
    },
    "&.cm-focused .cm-nonmatchingBracket": {
      backgroundColor: "rgba(207, 34, 46, 0.15)",
    },
  },
  { dark: false },
);

/**
 * Create a Python editor inside `parent`.
 *
 * @param {object} options
 * @param {Element} options.parent   element the editor is appended to
 * @param {string} [options.doc]     initial text
 * @param {boolean} [options.readOnly=false]  non-editable display
 * @param {() => void} [options.onRun]        called on Shift-Enter
 * @param {(text: string) => void} [options.onChange]  called after each document change
 * @param {string} [options.label]   accessible name of the editor ("Code cell model, Python")
 * @param {string} [options.describedBy]  id of the element that says how to leave the editor
 * @returns {{ view: EditorView, getValue(): string, setValue(text: string): void, focus(): void }}
 */
export function createEditor({
  parent, doc = "", readOnly = false, onRun, onChange, label = "Python code", describedBy,
} = {}) {
  if (!parent) throw new Error("createEditor: `parent` element is required");

  const extensions = [
    // Shift-Enter runs the code; highest precedence so it beats the default
    // keymap's Shift-Enter newline. Always handled, so it never inserts a newline.
    Prec.highest(
      keymap.of([
        {
          key: "Shift-Enter",
          run: () => {
            if (typeof onRun === "function") onRun();
            return true;
          },
          preventDefault: true,
        },
        {
          key: "Mod-Enter",
          run: () => {
            if (typeof onRun === "function") onRun();
            return true;
          },
          preventDefault: true,
        },
      ]),
    ),
    lineNumbers(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    indentOnInput(),
    syntaxHighlighting(highlightStyle, { fallback: true }),
    bracketMatching(),
    // Tab indents only once the learner works in the editor: keyboard focus passes through it
    // (see below), Escape then Tab leaves it, and Ctrl+] / Ctrl+[ indent without Tab.
    keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
    EditorView.contentAttributes.of({
      tabindex: "0", // a focusable scroller, as axe-core asks (contenteditable alone is not enough)
      "aria-label": label,
      ...(describedBy ? { "aria-describedby": describedBy } : {}),
    }),
    python(),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    lightTheme,
  ];

  if (readOnly) {
    // Still focusable, so keyboard users can scroll and read it (and screen readers reach it).
    extensions.push(
      EditorState.readOnly.of(true),
      EditorView.editable.of(false),
      EditorView.contentAttributes.of({ "aria-readonly": "true" }),
    );
  } else {
    extensions.push(highlightActiveLine(), highlightActiveLineGutter());
  }

  if (typeof onChange === "function") {
    extensions.push(
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    );
  }

  const view = new EditorView({
    state: EditorState.create({ doc: String(doc ?? ""), extensions }),
    parent,
  });

  // Focus that arrives by keyboard (Tab from the page) must not turn the next Tab into an
  // indent: a learner tabbing through the lesson passes through the editor untouched.
  let pointerAt = -Infinity;
  view.dom.addEventListener("pointerdown", () => { pointerAt = Date.now(); });
  view.contentDOM.addEventListener("focus", () => {
    if (Date.now() - pointerAt > 1000) view.setTabFocusMode(TAB_PASSES_MS);
  });

  return {
    view,
    getValue() {
      return view.state.doc.toString();
    },
    setValue(text) {
      const insert = String(text ?? "");
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert },
        selection: { anchor: Math.min(view.state.selection.main.head, insert.length) },
      });
    },
    focus() {
      view.focus();
    },
  };
}
