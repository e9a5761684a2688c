// Sliders: every input event is sent at once; the server keeps only the newest values.
//
// While a slider is held (a key repeating, a pointer pressed on it, a drag on a plot) its moves
// are sent with `coarse: true`, so a plot whose work per move is heavy draws a quick, coarse
// result instead of queueing full ones; when the slider comes to rest its value is sent once
// more without `coarse`, and the full result follows. A single key press is sent in full.

const sliders = new Map();  // name -> { input, show, coarseSent }
let sendSlide = () => {};

function decimalsOf(input) {
  return (Number(input.step).toFixed(10).replace(/0+$/, "").split(".")[1] || "").length;
}

// send({values, coarse}) puts one slide message on the socket (the caller adds type and seq).
export function setupSliders(send) {
  sendSlide = send;
  for (const input of document.querySelectorAll("input[data-slider]")) {
    const name = input.dataset.slider;
    const readout = document.querySelector(`output[data-readout="${name}"]`);
    const decimals = decimalsOf(input);
    const show = () => { if (readout) readout.textContent = Number(input.value).toFixed(decimals); };
    const s = { input, show, coarseSent: false, held: false };
    sliders.set(name, s);
    show();
    input.addEventListener("keydown", (ev) => { if (ev.repeat) s.held = true; });
    input.addEventListener("pointerdown", () => { s.held = true; });
    const rest = () => {
      s.held = false;
      restSliders([name]);
    };
    input.addEventListener("keyup", rest);
    input.addEventListener("pointerup", rest);
    input.addEventListener("pointercancel", rest);
    input.addEventListener("blur", rest);
    input.addEventListener("input", () => {
      show();
      slide({ [name]: Number(input.value) }, s.held);
    });
  }
}

function slide(values, coarse) {
  if (coarse) for (const name of Object.keys(values)) sliders.get(name).coarseSent = true;
  sendSlide(coarse ? { values, coarse: true } : { values });
}

// Move sliders from elsewhere (a drag on a plot): each input takes the value (snapped to its
// step and range by the browser), its readout follows, and the values go to the server the same
// way as the slider's own moves. Returns the values as the sliders took them.
export function setSliders(values, { coarse = false } = {}) {
  const taken = {};
  for (const [name, value] of Object.entries(values)) {
    const s = sliders.get(name);
    if (!s || !Number.isFinite(value)) continue;
    s.input.value = String(value);
    s.show();
    taken[name] = Number(s.input.value);
  }
  if (Object.keys(taken).length) slide(taken, coarse);
  return taken;
}

// The sliders came to rest: those moved coarsely are sent once more in full.
export function restSliders(names) {
  const values = {};
  for (const name of names) {
    const s = sliders.get(name);
    if (!s?.coarseSent) continue;
    s.coarseSent = false;
    values[name] = Number(s.input.value);
  }
  if (Object.keys(values).length) sendSlide({ values });
}

export function sliderValue(name) {
  const s = sliders.get(name);
  return s ? Number(s.input.value) : undefined;
}

export function hasSlider(name) {
  return sliders.has(name);
}
