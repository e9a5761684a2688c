// Your own data: a CSV file (read as bytes, sent as base64, so the kernel sees the real bytes
// whatever their encoding) or pasted rows go to the kernel, which parses them in the sandbox.
// The server answers with `data_state`: whose data is in use, or the parser's words.
import { fmt } from "./format.js";

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function sizeWords(n) {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

const rowWords = (n) => `${n.toLocaleString("en")} row${n === 1 ? "" : "s"}`;

const WHOSE = {
  lesson: "This is the lesson's data.",
  yours: "Your own data is in use.",
  room: "Your teacher chose this data for your class.",
};

export function setupData({ send, nextSeq }) {
  const box = document.getElementById("own-data");
  if (!box) return null;
  const maxBytes = Number(box.dataset.maxKb) * 1024;
  const out = document.getElementById("data-state");
  const reset = document.getElementById("data-reset");
  const fileInput = document.getElementById("data-file");
  const paste = document.getElementById("data-paste");
  let source = "lesson";
  let lead = null;  // words in place of the kernel's for the next data loaded (a share link's)
  // Data this page uses without the server keeping it for the learner (a share link's): its
  // rows, for a notebook or a link made from this page. `asked` is what this page asked for
  // last ("load" or "reset"), `sent` the unsaved rows of a load on its way.
  let unsaved = null;
  let asked = null;
  let sent = null;
  const say = (text, ok = true) => {
    out.textContent = text;
    out.dataset.ok = String(ok);
    box.dataset.ok = String(ok);
  };
  const tooBig = (what, size) =>
    `${what} is ${sizeWords(size)}; at most ${sizeWords(maxBytes)} can be loaded. Use fewer rows. Nothing was sent.`;

  // `keep` false: this page uses the rows, and what the server keeps for the learner stays.
  function sendBytes(bytes, name, instead = null, keep = true) {
    if (bytes.length > maxBytes) { say(tooBig(name ? `“${name}”` : "This data", bytes.length), false); return false; }
    if (!bytes.length) { say("There is nothing to load: the file or the box is empty.", false); return false; }
    lead = instead;
    asked = "load";
    sent = keep ? null : new TextDecoder().decode(bytes);
    say(`Loading ${name ? `“${name}”` : instead ? "the shared data" : "your rows"}…`);
    send({ type: "data", content: base64(bytes), name: name || "", seq: nextSeq(), keep });
    return true;
  }

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (!file) return;
    if (file.size > maxBytes) say(tooBig(`“${file.name}”`, file.size), false);  // refused before reading it
    else sendBytes(new Uint8Array(await file.arrayBuffer()), file.name);
    fileInput.value = "";
  });
  document.getElementById("data-load").addEventListener("click", () => {
    sendBytes(new TextEncoder().encode(paste.value.trim() ? paste.value : ""), "");
  });
  reset.addEventListener("click", () => {
    say("Going back to the lesson's data…");
    asked = "reset";
    send({ type: "data_reset", seq: nextSeq() });
  });

  return {
    sendBytes,
    source: () => source,
    unsaved: () => unsaved,
    // The server's word on the data in use: always shown as text, in a polite live region.
    state(msg) {
      if (!msg.ok) {
        asked = sent = null;  // refused: the data in use stays
        lead = null;
        say(`Not loaded: ${msg.message}`, false);
        box.open = true;
        return;
      }
      const hadFocus = document.activeElement === reset;
      source = msg.source;
      // The answer to a load, a reset, or a new kernel given the data again: what is in use.
      if (source !== "yours" || asked === "reset") unsaved = null;
      else if (asked === "load") unsaved = sent;
      asked = sent = null;
      reset.hidden = source !== "yours";
      box.dataset.source = source;
      let words = msg.message || WHOSE[source] || "";
      if (lead && source === "yours") {
        // The kernel's words name a file; a share link's data is named as such.
        const note = words.includes(" It is not saved:") ? words.slice(words.indexOf(" It is not saved:")) : "";
        words = `${lead}${note}`;
      }
      lead = null;
      const rows = msg.rows ? rowWords(msg.rows) : "";
      const ranges = Object.entries(msg.columns || {})
        .map(([name, [lo, hi]]) => `${name} from ${fmt(lo)} to ${fmt(hi)}`).join(", ");
      let detail = "";
      if (rows && !words.includes(rows)) detail = ` ${rows}${ranges ? `: ${ranges}` : ""}.`;
      else if (ranges) detail = ` Columns: ${ranges}.`;
      say(`${words}${detail}`);
      if (source !== "lesson") box.open = true;
      // The button just pressed went away: the focus goes back to the first control of the box.
      if (hadFocus && reset.hidden) fileInput.focus();
    },
  };
}

// The learner's data as the server keeps it (for the notebook), or null.
export async function storedData(slug) {
  try {
    const resp = await fetch(`/api/data/${encodeURIComponent(slug)}`, { credentials: "same-origin" });
    return resp.ok ? (await resp.json()).csv : null;
  } catch {
    return null;
  }
}
