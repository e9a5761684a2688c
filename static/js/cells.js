// Code cells: a CodeMirror editor per cell, Run and Reset, the learner's edits kept in the
// browser's storage and saved on the server (savedwork.js), and the output of each run.
import { createEditor } from "descent/editor";

export class Cells {
  constructor(slug, cells, { onRun, saved = null, autosave = null }) {
    this.slug = slug;
    this.autosave = autosave;
    this.original = cells;
    this.editors = {};
    for (const el of document.querySelectorAll("[data-cell]")) {
      const id = el.dataset.cell;
      const spec = cells[id];
      const host = el.querySelector("[data-editor]");
      host.textContent = "";
      const editor = createEditor({
        parent: host,
        doc: spec.editable ? saved?.cells?.[id]?.code ?? this.saved(id) ?? spec.code : spec.code,
        readOnly: !spec.editable,
        label: `Code cell ${id}, Python${spec.editable ? "" : ", read only"}`,
        describedBy: spec.editable ? `keys-${id}` : undefined,
        onRun: () => onRun(id),
        onChange: (text) => {
          if (!spec.editable) return;
          this.store(id, text);
          this.autosave?.changed(id);
        },
      });
      this.editors[id] = editor;
      if (spec.editable && autosave) {
        autosave.attach(id, el.querySelector(".cell-actions"), {
          get: () => editor.getValue(),
          set: (text) => editor.setValue(text),
        });
      }
      el.querySelector("[data-run]")?.addEventListener("click", () => onRun(id));
      el.querySelector("[data-reset]")?.addEventListener("click", () => this.reset(id));
      el.dataset.ready = "true";
    }
  }

  key(id) { return `descent:${this.slug}:${id}`; }

  saved(id) {
    try { return localStorage.getItem(this.key(id)); } catch { return null; }
  }

  store(id, text) {
    try {
      if (text === this.original[id].code) localStorage.removeItem(this.key(id));
      else localStorage.setItem(this.key(id), text);
    } catch { /* storage full or disabled: the edit still lives in the page */ }
  }

  reset(id) {
    this.editors[id].setValue(this.original[id].code);
    this.store(id, this.original[id].code);
  }

  code(id) { return this.editors[id].getValue(); }

  all() {
    const out = {};
    for (const id of Object.keys(this.editors)) out[id] = this.code(id);
    return out;
  }

  showOutput(msg) {
    const box = document.querySelector(`[data-output="${msg.cell}"]`);
    if (!box) return;
    box.textContent = "";
    box.dataset.ok = String(msg.ok);
    const add = (cls, text) => {
      const pre = document.createElement("pre");
      pre.className = cls;
      pre.textContent = text;
      box.append(pre);
    };
    if (msg.stdout) add("stdout", msg.stdout);
    if (msg.stderr) add("stderr", msg.stderr);
    if (msg.truncated) add("note", "Output was cut: only the first part is shown.");
    if (msg.error) add("error", msg.error);
    const editable = this.original[msg.cell]?.editable;
    if (msg.ok && editable && !msg.stdout && !msg.stderr) add("note", "Ran without output.");
  }
}
