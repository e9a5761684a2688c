// Long work in a cell calls progress(done, total): a bar, the count and the time left.
export const progressShown = new Map();
export function showProgress(msg) {
  // A cell's progress shows in its output; a plot's (a slow landscape) under the plot.
  const box = document.querySelector(`[data-output="${msg.cell}"]`)
    || document.querySelector(`[data-readouts="${msg.cell}"]`);
  if (!box) return;
  const now = performance.now();
  let state = progressShown.get(msg.cell);
  if (!state || msg.done < state.done) {
    state = { start: now, done: msg.done, first: msg.done };
    progressShown.set(msg.cell, state);
    box.textContent = "";
    const bar = document.createElement("progress");
    const text = document.createElement("span");
    text.className = "progress-text";
    box.append(bar, text);
  }
  state.done = msg.done;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  if (!bar || !text) return;
  let words = msg.label ? `${msg.label}: ` : "";
  if (msg.total > 0) {
    bar.max = msg.total;
    bar.value = msg.done;
    const n = (v) => (Number.isInteger(v) ? v : Math.round(v));
    words += `${n(msg.done)} of ${n(msg.total)}`;
    const rate = (msg.done - state.first) / ((now - state.start) / 1000);
    if (rate > 0 && msg.done < msg.total) words += `, about ${Math.ceil((msg.total - msg.done) / rate)} s left`;
  } else {
    bar.removeAttribute("value");
    words += `${msg.done}`;
  }
  text.textContent = ` ${words} (press Stop to end it)`;
}
