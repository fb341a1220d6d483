// animefeat page: pick, drop or paste an image; POST it; show the answer and the evidence.
"use strict";

const $ = (id) => document.getElementById(id);
const drop = $("drop"), input = $("file");

function showError(message) {
  $("busy").hidden = true;
  $("result").hidden = true;
  $("error").textContent = message;
  $("error").hidden = false;
}

function percent(p) { return `${Math.round(p * 100)}%`; }

function drawBoxes(evidence) {
  const boxes = $("boxes");
  boxes.replaceChildren();
  const place = (b, cls) => {
    const d = document.createElement("div");
    d.className = cls;
    Object.assign(d.style, { left: percent(b[0]), top: percent(b[1]), width: percent(b[2]), height: percent(b[3]) });
    boxes.appendChild(d);
  };
  if (evidence.face) place(evidence.face, "face");
  evidence.eyes.forEach((e) => place(e, "eye"));
  const lines = $("lines"), b = evidence.lines_box;
  lines.src = evidence.lines;
  Object.assign(lines.style, { left: percent(b[0]), top: percent(b[1]), width: percent(b[2]), height: percent(b[3]) });
  lines.hidden = !$("show-lines").checked;
  boxes.hidden = !$("show-boxes").checked;
}

function showResult(r) {
  $("busy").hidden = true;
  $("error").hidden = true;
  const label = $("label");
  label.textContent = r.label === "anime" ? "Anime" : "Cartoon";
  label.className = r.label;
  for (const k of ["anime", "cartoon"]) {
    $(`p-${k}`).value = r.probabilities[k];
    $(`t-${k}`).value = percent(r.probabilities[k]);
  }
  const warning = $("warning");
  warning.hidden = r.is_drawing;
  warning.textContent = r.is_drawing ? "" :
    `This doesn't look like a drawing (${percent(1 - r.drawing_probability)} sure it is a photo or ` +
    "something else): the style answer is a guess.";
  const list = $("reasons");
  list.replaceChildren();
  for (const c of r.explanation) {
    const li = document.createElement("li");
    li.textContent = c.text;
    li.className = c.contribution > 0 ? "anime" : "cartoon";
    list.appendChild(li);
  }
  $("model").textContent = `model ${r.model.name} v${r.model.version}`;
  if (r.evidence) drawBoxes(r.evidence);
  $("result").hidden = false;
}

async function classify(file) {
  if (!file) return;
  if (!file.type.startsWith("image/") && file.type !== "") {
    showError(`“${file.name}” is not an image (${file.type}).`);
    return;
  }
  // Multipart framing adds a little; the server has the last word with a 413.
  if (file.size > Number(document.body.dataset.maxBytes)) {
    showError(`“${file.name}” is too large: the limit is ${document.body.dataset.maxSize}.`);
    return;
  }
  $("error").hidden = true;
  $("busy").hidden = false;
  $("preview").src = URL.createObjectURL(file);
  const body = new FormData();
  body.append("image", file, file.name || "pasted.png");
  try {
    const response = await fetch("api/classify?evidence=1", { method: "POST", body });
    const data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    if (!response.ok) showError(data.error || `the server answered ${response.status}`);
    else showResult(data);
  } catch (err) {
    showError(`Could not reach the server: ${err.message}`);
  }
}

input.addEventListener("change", () => classify(input.files[0]));
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
drop.addEventListener("drop", (e) => { e.preventDefault(); classify(e.dataTransfer.files[0]); });
document.addEventListener("paste", (e) => {
  const item = [...e.clipboardData.items].find((i) => i.kind === "file");
  if (item) classify(item.getAsFile());
});
$("show-lines").addEventListener("change", (e) => { $("lines").hidden = !e.target.checked; });
$("show-boxes").addEventListener("change", (e) => { $("boxes").hidden = !e.target.checked; });
