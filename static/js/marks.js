// Progress marks kept in this browser: which lessons the learner opened and which exercises
// passed, for the index page's marks and its "continue" link.
const KEY = "descent:progress";

export function readMarks() {
  try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch { return {}; }
}

function write(marks) {
  try { localStorage.setItem(KEY, JSON.stringify(marks)); } catch { /* storage full or off */ }
}

export function noteOpened(slug, title) {
  const marks = readMarks();
  const mine = marks[slug] || { passed: [] };
  Object.assign(mine, { opened: Date.now(), title });
  marks[slug] = mine;
  write(marks);
}

export function notePassed(slug, exercise) {
  const marks = readMarks();
  const mine = marks[slug] || { passed: [], opened: Date.now() };
  if (!mine.passed.includes(exercise)) mine.passed.push(exercise);
  marks[slug] = mine;
  write(marks);
}
