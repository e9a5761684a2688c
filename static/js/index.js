// The index: each lesson's progress mark from this browser, and where to continue.
import { readMarks } from "./marks.js";

const marks = readMarks();
for (const li of document.querySelectorAll("[data-lesson-slug]")) {
  const mine = marks[li.dataset.lessonSlug];
  const mark = li.querySelector("[data-mark]");
  if (!mine || !mark) continue;
  const total = Number(li.dataset.exercises);
  const passed = mine.passed.length;
  const done = total > 0 ? passed >= total : true;
  mark.textContent = total ? (done ? "✓ done" : `${passed} of ${total} exercises`) : "✓ opened";
  mark.dataset.state = done ? "done" : "started";
  li.dataset.state = mark.dataset.state;
}
const last = Object.entries(marks).sort((a, b) => (b[1].opened || 0) - (a[1].opened || 0))[0];
const cont = document.getElementById("continue");
if (last && cont) {
  const link = cont.querySelector("a");
  link.href = `/lessons/${last[0]}`;
  link.textContent = last[1].title || last[0];
  cont.hidden = false;
}
