// Your own data: a CSV file (read as bytes, sent as base64, so the kernel sees the real bytes
// whatever their encoding) or pasted rows go to the kernel, which parses them in the sandbox.
// The server answers with `data_state`: whose data is in use, or the parser's words.

const state = { source: "lesson" };

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

export function setupData({ send, nextSeq }) {
  const box = document.getElementById("own-data");
  if (!box) return null;
  const maxBytes = Number(box.dataset.maxKb) * 1024;
  const out = document.getElementById("data-state");
  const reset = document.getElementById("data-reset");
  const say = (text, ok = true) => { out.textContent = text; out.dataset.ok = String(ok); };

  function sendBytes(bytes, name) {
    if (bytes.length > maxBytes) {
      say(`This file is ${sizeWords(bytes.length)}; at most ${sizeWords(maxBytes)} can be loaded. ` +
          "Use fewer rows. Nothing was sent.", false);
      return;
    }
    if (!bytes.length) { say("There is nothing to load: the file or the box is empty.", false); return; }
    say(`Loading ${name || "your rows"}…`);
    send({ type: "data", content: base64(bytes), name, seq: nextSeq() });
  }

  document.getElementById("data-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    if (file.size > maxBytes) {  // refused before reading or sending
      say(`“${file.name}” is ${sizeWords(file.size)}; at most ${sizeWords(maxBytes)} can be loaded. ` +
          "Use fewer rows. Nothing was sent.", false);
      event.target.value = "";
      return;
    }
    sendBytes(new Uint8Array(await file.arrayBuffer()), file.name);
    event.target.value = "";
  });
  document.getElementById("data-load").addEventListener("click", () => {
    sendBytes(new TextEncoder().encode(document.getElementById("data-paste").value), "");
  });
  reset.addEventListener("click", () => {
    say("Going back to the lesson's data…");
    send({ type: "data_reset", seq: nextSeq() });
  });

  return {
    sendBytes,
    // The server's word on the data in use: always shown as text.
    state(msg) {
      if (msg.ok) state.source = msg.source;
      reset.hidden = state.source !== "yours";
      const whose = { lesson: "This is the lesson's data.", yours: "Your own data is in use.",
                      room: "Your teacher chose this data for your class." }[state.source];
      const ranges = Object.entries(msg.columns || {})
        .map(([name, [lo, hi]]) => `${name} from ${lo} to ${hi}`).join(", ");
      const rows = msg.ok && msg.rows ? ` ${msg.rows} rows${ranges ? `: ${ranges}` : ""}.` : "";
      say(msg.ok ? `${msg.message || whose}${rows}` : `Not loaded: ${msg.message}`, msg.ok);
      box.dataset.source = state.source;
      if (!msg.ok || state.source !== "lesson") box.open = true;
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
