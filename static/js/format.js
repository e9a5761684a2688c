// Numbers as a learner reads them: five significant digits, engineering notation (exponents in
// multiples of three) when very large or small, and words instead of NaN or Infinity. The text
// stays readable by Number() ("12.346e3"), so tests and screen readers get the same value.

export function fmt(v, digits = 5) {
  if (typeof v !== "number") v = Number(v);
  if (Number.isNaN(v)) return "not a number";
  if (v === Infinity) return "infinity";
  if (v === -Infinity) return "minus infinity";
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e-3 && a < 1e5) return trim(v.toPrecision(digits));
  let exp = Math.floor(Math.log10(a) / 3) * 3;
  let mant = v / 10 ** exp;
  if (Math.abs(Number(mant.toPrecision(digits))) >= 1000) { exp += 3; mant /= 1000; }
  return `${trim(mant.toPrecision(digits))}e${exp}`;
}

function trim(text) {
  if (!text.includes(".") || text.includes("e")) return text;
  return text.replace(/0+$/, "").replace(/\.$/, "");
}

// A finite number, or null (a gap plotly draws as nothing) for NaN and ±Infinity.
export const finiteOrNull = (v) => (typeof v === "number" && !Number.isFinite(v) ? null : v);

// Every number in plot data made finite-or-null, so no axis ever shows NaN or Infinity.
export function cleanNumbers(value) {
  if (typeof value === "number") return finiteOrNull(value);
  if (Array.isArray(value)) return value.map(cleanNumbers);
  if (ArrayBuffer.isView(value)) {
    let bad = false;
    for (const v of value) if (!Number.isFinite(v)) { bad = true; break; }
    return bad ? Array.from(value, finiteOrNull) : value;
  }
  return value;
}
