// animefeat page: choose, drop or paste images; classify them one or two at a time;
// a card per image; the chosen card's full answer with its reasons pointing at the picture.
"use strict";

const $ = (id) => document.getElementById(id);
const CONCURRENCY = 2;
const SIDE_TITLES = { anime: "Points to anime", cartoon: "Points to cartoon" };
const EVIDENCE_LEGEND = {
  lines: "Outlines found (pink): thin dark strokes, most of them bounding flat paint.",
  edges: "Edges found (blue).",
  shading: "Shadow steps inside one colour (orange).",
  palette: "The main colours, most used first.",
  faces: "Drawn faces (green) and eyes (yellow).",
  patches: "Where the strokes and details look anime (purple) or cartoon (orange), patch by patch.",
};
const results = [];  // {file, url, card, data | error}
let queue = [], running = 0, done = 0, failed = 0, total = 0, selected = null;
let pinned = null;  // the overlay chosen with the "Show" buttons; a reason shows its own while pointed at

function percent(p) { return `${Math.round(p * 100)}%`; }
function pct(v) { return `${(v * 100).toFixed(2)}%`; }

function isImage(file) {
  return file.type.startsWith("image/") || (file.type === "" && /\.(jpe?g|png|gif|webp|bmp|tiff?)$/i.test(file.name));
}

function addFiles(files) {
  // Every file chosen gets a card, a non-image its own error card; only hidden files
  // (".DS_Store" from a folder) are passed over.
  const list = [...files].filter((f) => !f.name || !f.name.startsWith("."));
  if (!list.length) return;
  $("error").hidden = true;
  for (const file of list) {
    const item = { file, url: URL.createObjectURL(file), card: makeCard(file) };
    results.push(item);
    queue.push(item);
    total += 1;
  }
  showProgress();
  pump();
}

function makeCard(file) {
  const li = $("card-template").content.firstElementChild.cloneNode(true);
  li.querySelector(".name").textContent = file.name || "pasted image";
  li.querySelector(".card-verdict").textContent = "Waiting…";
  li.classList.add("pending");
  $("grid").appendChild(li);
  return li;
}

function showProgress() {
  const p = $("progress");
  p.hidden = total === 0;
  const unread = failed ? `, ${failed} could not be read` : "";
  p.textContent = done < total ? `Measuring: ${done} of ${total} done${unread}…`
    : `${total} of ${total} done${unread}.`;
}

function pump() {
  while (running < CONCURRENCY && queue.length) {
    const item = queue.shift();
    running += 1;
    classify(item).finally(() => {
      running -= 1;
      done += 1;
      showProgress();
      pump();
    });
  }
}

async function classify(item) {
  const { file, card } = item;
  card.querySelector(".card-verdict").textContent = "Measuring…";
  if (!isImage(file)) {
    return fail(item, `not an image (${file.type || "unknown type"}): animefeat reads JPEG, PNG, GIF, WebP, BMP and TIFF`);
  }
  if (file.size > Number(document.body.dataset.maxBytes)) {
    return fail(item, `too large: the limit is ${document.body.dataset.maxSize}`);
  }
  const body = new FormData();
  body.append("image", file, file.name || "pasted.png");
  try {
    const response = await fetch("api/classify?evidence=1", { method: "POST", body });
    const data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    if (!response.ok) return fail(item, data.error || `the server answered ${response.status}`);
    item.data = data;
    fillCard(item);
    if (selected === null) select(item);
  } catch (err) {
    fail(item, `could not reach the server (${err.message})`);
  }
}

function fail(item, message) {
  item.error = message;
  failed += 1;
  const card = item.card;
  card.classList.remove("pending");
  card.classList.add("failed");
  card.dataset.testid = "error";
  card.querySelector(".card-verdict").textContent = "Could not classify";
  card.querySelector(".card-reason").textContent = message;
  card.querySelector(".thumb").alt = "";
  card.querySelector(".open").disabled = true;
  card.querySelector(".card-bar").hidden = true;
}

// The class that colours a verdict: photo, the style of a plain verdict, or unsure.
function verdictClass(data) {
  if (!data.is_drawing) return "photo";
  return data.confident ? data.label : "unsure";
}

function fillCard(item) {
  const { card, data, url, file } = item;
  card.classList.remove("pending");
  card.classList.add(verdictClass(data));
  const thumb = card.querySelector(".thumb");
  thumb.src = url;
  thumb.alt = `${file.name || "pasted image"}: ${data.verdict}`;
  card.querySelector(".card-verdict").textContent = data.verdict;
  fillBar(card.querySelector(".card-bar"), data.probabilities.anime);
  // The card keeps a short word; the full hedge is in the answer beside the picture.
  if (data.is_drawing && !data.confident && data.verdict.startsWith("Not sure")) {
    card.querySelector(".card-verdict").textContent = "Not sure";
  }
  const top = data.reasons.length ? data.reasons[0].items[0] : null;
  const notes = (data.notes || []).join("; ");
  card.querySelector(".card-reason").textContent = notes || (top ? top.text : "");
  card.querySelector(".open").addEventListener("click", () => { select(item); showVerdict(); });
}

function select(item) {
  selected = item;
  for (const r of results) r.card.classList.toggle("selected", r === item);
  const { data, url } = item;
  $("preview").src = url;
  $("preview").alt = `${item.file.name || "pasted image"}, the image being explained`;
  const verdict = $("verdict");
  // A photograph leads with what it is; its style guess folds away behind a summary.
  verdict.textContent = data.is_drawing ? data.verdict : "This looks like a photograph, not a drawing";
  verdict.className = verdictClass(data);
  const warning = $("warning");
  const notes = (data.notes || []).map((n) => n.charAt(0).toUpperCase() + n.slice(1) + ".");
  if (!data.is_drawing) {
    notes.unshift(`The style answer below would be a guess: the model judges drawings. ${percent(1 - data.drawing_probability)} sure it is not one.`);
  }
  warning.hidden = !notes.length;
  warning.textContent = notes.join(" ");
  const guess = $("style-guess");
  guess.open = data.is_drawing;
  guess.classList.toggle("folded", !data.is_drawing);
  fillBar($("p-anime"), data.probabilities.anime);
  $("t-anime").textContent = `anime ${percent(data.probabilities.anime)}`;
  $("t-cartoon").textContent = `cartoon ${percent(data.probabilities.cartoon)}`;
  const reasons = $("reasons");
  reasons.replaceChildren();
  for (const group of data.reasons) {
    const h = document.createElement("h3");
    h.textContent = SIDE_TITLES[group.side];
    h.className = group.side;
    const ol = document.createElement("ol");
    for (const c of group.items) {
      const li = document.createElement("li");
      li.dataset.testid = "reason";
      li.dataset.evidence = c.evidence;
      li.tabIndex = 0;
      li.textContent = c.text;
      li.className = group.side;
      const on = () => highlight(c.evidence);
      li.addEventListener("mouseenter", on);
      li.addEventListener("focus", on);
      li.addEventListener("click", on);
      li.addEventListener("mouseleave", () => highlight(pinned));
      li.addEventListener("blur", () => highlight(pinned));
      ol.appendChild(li);
    }
    reasons.append(h, ol);
  }
  $("model").textContent = `model ${data.model.name} v${data.model.version}`;
  pin(null);
  $("detail").hidden = false;
}

// On a narrow screen the answer sits below the cards: bring it into view when a card is
// tapped (on a wide one it is already beside them).
function showVerdict() {
  const verdict = $("verdict");
  const box = verdict.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) {
    verdict.scrollIntoView({ block: "start", behavior: "instant" });
  }
}

// One bar in the two style colours: the anime share from the left, the cartoon share
// from the right, labelled for screen readers and on hover.
function fillBar(bar, pAnime) {
  bar.querySelector(".anime").style.width = `${100 * pAnime}%`;
  bar.querySelector(".cartoon").style.width = `${100 * (1 - pAnime)}%`;
  const label = `anime ${percent(pAnime)}, cartoon ${percent(1 - pAnime)}`;
  bar.setAttribute("aria-label", label);
  bar.title = label;
}

function place(el, b) {
  Object.assign(el.style, { left: pct(b[0]), top: pct(b[1]), width: pct(b[2]), height: pct(b[3]) });
}

function pin(kind) {
  pinned = kind;
  for (const b of $("views").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  }
  highlight(kind);
}

$("views").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-kind]");
  if (b) pin(pinned === b.dataset.kind ? null : b.dataset.kind);
});

// What the detector found, in words. No eye size: the eye boxes are the face's darkest
// pair of blobs and are often off on shaded faces, and the verdict reads neither.
function facesLegend(faces) {
  if (!faces.length) return "No drawn face was found.";
  const n = faces.length === 1 ? "1 drawn face" : `${faces.length} drawn faces`;
  const withEyes = faces.some((f) => f.eyes.length);
  return `${n} (green)` + (withEyes ? ", and the darkest pair of blobs in it taken for eyes (yellow)" : "; no eye pair found") +
    ". The verdict does not read faces or eyes.";
}

// The line mask on shaded art or a photograph: what it found, and why no reason reads it.
function outlinesLegend(outlines) {
  if (outlines.share === null) return "No thin dark strokes were found.";
  return `Thin dark strokes (pink), but only ${percent(outlines.share)} of them border flat paint: ` +
    "here they are mostly hair, texture and shading rather than outlines, so no reason is read from them.";
}

function highlight(kind) {
  const ev = selected && selected.data.evidence;
  const mask = $("mask"), boxes = $("boxes"), palette = $("palette");
  mask.hidden = true;
  boxes.hidden = true;
  palette.hidden = true;
  $("legend").textContent = kind ? EVIDENCE_LEGEND[kind] || "" : "Point at a reason to see where it was measured.";
  if (!ev || !kind) return;
  if (kind === "lines" && ev.outlines && !ev.outlines.reasons) $("legend").textContent = outlinesLegend(ev.outlines);
  if (kind === "lines" || kind === "edges" || kind === "shading" || kind === "patches") {
    if (!ev[kind]) return;
    mask.src = ev[kind];
    place(mask, ev.box);
    mask.hidden = false;
  } else if (kind === "faces") {
    boxes.replaceChildren();
    for (const f of ev.faces) {
      const d = document.createElement("div");
      d.className = "face";
      place(d, f.box);
      boxes.appendChild(d);
      for (const e of f.eyes) {
        const eye = document.createElement("div");
        eye.className = "eye";
        place(eye, e);
        boxes.appendChild(eye);
      }
    }
    $("legend").textContent = facesLegend(ev.faces);
    boxes.hidden = false;
  } else if (kind === "palette") {
    palette.replaceChildren();
    for (const c of ev.palette) {
      const s = document.createElement("span");
      s.className = "swatch";
      s.style.background = c.rgb;
      s.style.flexGrow = String(Math.max(c.share, 0.02));
      s.title = `${c.rgb}: ${percent(c.share)}`;
      palette.appendChild(s);
    }
    palette.hidden = false;
  }
}

const input = $("file"), folder = $("folder"), drop = $("drop");
// A folder picker only where the browser has one (Chromium, Firefox, Safari on desktop).
if (!("webkitdirectory" in folder)) { folder.remove(); $("folder-label").remove(); }
input.addEventListener("change", () => { addFiles(input.files); input.value = ""; });
folder.addEventListener("change", () => { addFiles(folder.files); folder.value = ""; });
["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (entries.some((en) => en.isDirectory)) addFiles(await readEntries(entries));
  else addFiles(e.dataTransfer.files);
});

async function readEntries(entries) {
  const files = [];
  const walk = async (entry) => {
    if (entry.isFile) files.push(await new Promise((ok, ko) => entry.file(ok, ko)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const en of entries) await walk(en);
  return files;
}

document.addEventListener("paste", (e) => {
  const files = [...e.clipboardData.items].filter((i) => i.kind === "file").map((i) => i.getAsFile());
  if (files.length) addFiles(files);
});
