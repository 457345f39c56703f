// soma playground: the page. It draws what the server sends and sends what the user does;
// every number it shows was computed by soma in the server process.
"use strict";

const FEATURES = [
  ["x1", "X\u2081", (a, b) => a], ["x2", "X\u2082", (a, b) => b],
  ["x1sq", "X\u2081\u00b2", (a, b) => a * a], ["x2sq", "X\u2082\u00b2", (a, b) => b * b],
  ["x1x2", "X\u2081X\u2082", (a, b) => a * b], ["sinx1", "sin(X\u2081)", (a, b) => Math.sin(a)],
  ["sinx2", "sin(X\u2082)", (a, b) => Math.sin(b)],
];
const DOMAIN = 6;
const NODE = 40, ROW = 52, TOP = 40;
const NEGATIVE = [245, 147, 34], POSITIVE = [8, 119, 189], NEUTRAL = [232, 234, 235];
const $ = (id) => document.getElementById(id);

const page = {
  socket: null, state: null, layoutKey: null, history: [], points: null,
  sample: 0, explainOf: null, explainPending: false, weightOf: null,
  notes: null, notesCursor: 0,
};

// ---------------------------------------------------------------- socket
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  page.socket = new WebSocket(`${scheme}://${location.host}/ws`);
  page.socket.onmessage = (event) => receive(JSON.parse(event.data));
  page.socket.onclose = () => status("disconnected from the server; reload the page to start again");
}

function send(message) {
  if (page.socket && page.socket.readyState === WebSocket.OPEN) page.socket.send(JSON.stringify(message));
}

function receive(message) {
  const handlers = { state: onState, explain: onExplain, notes: onNotes, export: onExport, error: onError };
  (handlers[message.type] || (() => {}))(message);
}

let statusTimer = null;
function status(text) {
  $("status").textContent = text;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { $("status").textContent = ""; }, 6000);
}

function onError(message) {
  page.explainPending = false;
  status(message.message);
}

// ---------------------------------------------------------------- colours and pictures
function colour(v) {
  const to = v >= 0 ? POSITIVE : NEGATIVE, t = Math.min(1, Math.abs(v));
  return NEUTRAL.map((c, i) => Math.round(c + (to[i] - c) * t));
}

function decode(base64) {
  const bytes = atob(base64), values = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    values[i] = (b > 127 ? b - 256 : b) / 127;
  }
  return values;
}

function paint(canvas, values, grid, discretize) {
  canvas.width = grid; canvas.height = grid;
  const context = canvas.getContext("2d"), image = context.createImageData(grid, grid);
  for (let i = 0; i < values.length; i++) {
    const v = discretize ? Math.sign(values[i]) : values[i], [r, g, b] = colour(v);
    image.data.set([r, g, b, 160], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

function featureMap(f) {
  const grid = 40, values = new Float32Array(grid * grid);
  let scale = 1e-12;
  for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) {
    const a = -DOMAIN + (2 * DOMAIN * c) / (grid - 1), b = DOMAIN - (2 * DOMAIN * r) / (grid - 1);
    values[r * grid + c] = f(a, b); scale = Math.max(scale, Math.abs(values[r * grid + c]));
  }
  return values.map((v) => v / scale);
}

// ---------------------------------------------------------------- state
function onState(state) {
  page.state = state;
  if (state.points) page.points = state.points;
  if (state.previews) drawPreviews(state.previews);
  page.history = state.history_reset ? state.history.slice() : page.history.concat(state.history);
  if (page.sample >= page.points.train.length) page.sample = 0;
  syncControls(state.settings);
  $("epoch").textContent = String(state.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
  $("test-loss").textContent = state.test_loss === null ? "diverged" : state.test_loss.toFixed(3);
  $("train-loss").textContent = state.train_loss === null ? "diverged" : state.train_loss.toFixed(3);
  $("play").innerHTML = state.playing ? "&#10074;&#10074;" : "&#9654;";
  $("play").dataset.playing = state.playing ? "1" : "0";
  drawNetwork(state);
  drawHeatmap();
  drawLossCurve();
  if (page.explainOf && !page.explainPending) requestExplain();
}

function syncControls(settings) {
  for (const id of ["learning_rate", "activation", "optimizer", "regularization", "reg_rate", "dropout"]) {
    const select = $(id), value = String(settings[id]);
    if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
    select.value = value;
  }
  for (const id of ["train_ratio", "noise", "batch_size"]) {
    $(id).value = settings[id];
    $(`${id}-value`).textContent = settings[id];
  }
  $("problem").textContent = settings.problem;
  document.querySelectorAll(".dataset").forEach((b) => b.classList.toggle("selected", b.dataset.dataset === settings.dataset));
  $("layer-count").textContent = settings.hidden.length;
}

function config(changes) { send({ type: "config", ...changes }); }

// ---------------------------------------------------------------- network drawing
function columnsX(width, hiddenCount) {
  const left = 70, right = width - NODE - 10, count = hiddenCount + 2;
  return Array.from({ length: count }, (_, i) => left + ((right - left) * i) / (count - 1));
}

function drawNetwork(state) {
  const net = $("net"), settings = state.settings;
  const key = JSON.stringify([settings.features, settings.hidden, net.clientWidth]);
  if (key !== page.layoutKey) buildNetwork(settings);
  page.layoutKey = key;
  const grid = state.grid, maps = state.heatmaps, discretize = $("discretize").checked;
  settings.features.forEach((name, i) => paint(net.querySelector(`.feature[data-feature="${name}"] canvas`), decode(maps.features[i]), grid, false));
  maps.neurons.forEach((layer, l) => layer.forEach((m, j) => {
    paint(net.querySelector(`.neuron[data-layer="${l}"][data-neuron="${j}"] canvas`), decode(m), grid, false);
  }));
  paint(net.querySelector(".neuron.output canvas"), decode(maps.output), grid, discretize);
  drawEdges(state);
}

function node(classes, x, y, attributes) {
  const div = document.createElement("div");
  div.className = `node ${classes}`;
  div.style.left = `${x}px`; div.style.top = `${y}px`;
  Object.assign(div.dataset, attributes);
  div.appendChild(document.createElement("canvas"));
  $("net").appendChild(div);
  return div;
}

function buildNetwork(settings) {
  const net = $("net");
  net.querySelectorAll(".node, .neuron-buttons, .neuron-count").forEach((e) => e.remove());
  const xs = columnsX(net.clientWidth, settings.hidden.length);
  net.style.height = `${TOP + ROW * Math.max(FEATURES.length, 8) + 10}px`;
  FEATURES.forEach(([name, label, f], i) => {
    const on = settings.features.includes(name);
    const div = node(`feature${on ? "" : " off"}`, xs[0], TOP + ROW * i, { feature: name });
    const text = document.createElement("span");
    text.className = "label"; text.textContent = label; div.appendChild(text);
    div.title = on ? `${label}: an input (click to remove)` : `${label} (click to use it as an input)`;
    if (!on) paint(div.querySelector("canvas"), featureMap(f), 40, false);
    div.addEventListener("click", () => toggleFeature(name));
  });
  settings.hidden.forEach((size, l) => {
    const x = xs[l + 1];
    const buttons = document.createElement("div");
    buttons.className = "neuron-buttons"; buttons.style.left = `${x - 4}px`; buttons.style.top = "0px";
    for (const [text, delta] of [["+", 1], ["\u2212", -1]]) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = text; b.className = delta > 0 ? "add-neuron" : "remove-neuron";
      b.dataset.layer = l;
      b.addEventListener("click", () => changeNeurons(l, delta));
      buttons.appendChild(b);
    }
    net.appendChild(buttons);
    const count = document.createElement("span");
    count.className = "neuron-count"; count.style.left = `${x - 2}px`; count.style.top = "24px";
    count.textContent = `${size} neuron${size === 1 ? "" : "s"}`;
    net.appendChild(count);
    for (let j = 0; j < size; j++) {
      const div = node("neuron", x, TOP + ROW * j, { layer: l, neuron: j });
      div.addEventListener("click", () => openExplain(l, j, null));
    }
  });
  const out = node("neuron output", xs[xs.length - 1], TOP, { layer: settings.hidden.length, neuron: 0 });
  out.title = "the output neuron";
  out.addEventListener("click", () => openExplain(settings.hidden.length, 0, null));
}

function centre(element, side) {
  const x = parseFloat(element.style.left), y = parseFloat(element.style.top) + NODE / 2;
  return [side === "out" ? x + NODE : x, y];
}

function drawEdges(state) {
  const svg = $("edges"), net = $("net"), settings = state.settings;
  svg.innerHTML = "";
  const layers = [settings.features.map((name) => net.querySelector(`.feature[data-feature="${name}"]`))];
  settings.hidden.forEach((size, l) => layers.push([...Array(size).keys()].map((j) => net.querySelector(`.neuron[data-layer="${l}"][data-neuron="${j}"]`))));
  layers.push([net.querySelector(".neuron.output")]);
  state.network.weights.forEach((matrix, l) => matrix.forEach((row, j) => row.forEach((w, i) => {
    const [x1, y1] = centre(layers[l][i], "out"), [x2, y2] = centre(layers[l + 1][j], "in");
    const d = `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`;
    const hit = document.createElementNS("http://www.w3.org/2000/svg", "path");
    hit.setAttribute("d", d); hit.setAttribute("class", "hit");
    Object.assign(hit.dataset, { layer: l, neuron: j, input: i });
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `weight ${w === null ? "NaN" : w.toPrecision(4)} (click for its gradient and update)`;
    hit.appendChild(title);
    hit.addEventListener("click", () => openExplain(l, j, i));
    const edge = document.createElementNS("http://www.w3.org/2000/svg", "path");
    const [r, g, b] = colour(w === null ? 0 : Math.sign(w));
    edge.setAttribute("d", d); edge.setAttribute("class", "edge");
    edge.setAttribute("stroke", `rgb(${r},${g},${b})`);
    edge.setAttribute("stroke-width", String(Math.min(8, 0.4 + 2.5 * Math.abs(w || 0))));
    edge.setAttribute("stroke-opacity", String(Math.min(1, 0.3 + Math.abs(w || 0))));
    const selected = page.weightOf && page.explainOf && page.explainOf[0] === l && page.explainOf[1] === j && page.weightOf === i;
    if (selected) edge.classList.add("selected");
    svg.appendChild(hit); svg.appendChild(edge);
  })));
}

function toggleFeature(name) {
  const features = page.state.settings.features;
  const next = FEATURES.map(([n]) => n).filter((n) => (n === name ? !features.includes(n) : features.includes(n)));
  if (next.length === 0) { status("the network needs at least one input feature"); return; }
  closeExplain();
  config({ features: next });
}

function changeNeurons(layer, delta) {
  const hidden = page.state.settings.hidden.slice();
  hidden[layer] = Math.max(1, Math.min(8, hidden[layer] + delta));
  closeExplain();
  config({ hidden });
}

function changeLayers(delta) {
  const hidden = page.state.settings.hidden.slice();
  if (delta > 0 && hidden.length < 6) hidden.push(2);
  if (delta < 0 && hidden.length > 0) hidden.pop();
  closeExplain();
  config({ hidden });
}

// ---------------------------------------------------------------- output picture and loss curve
function drawHeatmap() {
  const canvas = $("heatmap"), state = page.state;
  const values = decode(state.heatmaps.output), grid = state.grid, discretize = $("discretize").checked;
  const small = document.createElement("canvas");
  paint(small, values, grid, discretize);
  const size = 298;
  canvas.width = size; canvas.height = size;
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.drawImage(small, 0, 0, size, size);
  const toPixel = (v) => ((v + DOMAIN) / (2 * DOMAIN)) * size;
  const draw = (points, stroke) => points.forEach(([a, b, t]) => {
    const [r, g, bl] = colour(t);
    context.beginPath(); context.arc(toPixel(a), size - toPixel(b), 3, 0, 2 * Math.PI);
    context.fillStyle = `rgb(${r},${g},${bl})`; context.fill();
    context.strokeStyle = stroke; context.lineWidth = 1; context.stroke();
  });
  draw(page.points.train, "#fff");
  if ($("show-test").checked) draw(page.points.test, "#000");
  const [a, b] = page.points.train[page.sample];
  context.beginPath(); context.arc(toPixel(a), size - toPixel(b), 7, 0, 2 * Math.PI);
  context.strokeStyle = "#111"; context.lineWidth = 2; context.stroke();
}

function drawPreviews(previews) {
  document.querySelectorAll(".dataset").forEach((button) => {
    const points = previews[button.dataset.dataset];
    if (!points || button.querySelector("canvas")) return;
    const canvas = document.createElement("canvas"), size = 48;
    canvas.width = size; canvas.height = size;
    const context = canvas.getContext("2d");
    for (const [a, b, t] of points) {
      const [r, g, bl] = colour(t);
      context.fillStyle = `rgb(${r},${g},${bl})`;
      context.fillRect(((a + DOMAIN) / (2 * DOMAIN)) * size - 1, size - ((b + DOMAIN) / (2 * DOMAIN)) * size - 1, 2.5, 2.5);
    }
    button.prepend(canvas);
  });
}

function pickSample(event) {
  const canvas = $("heatmap"), box = canvas.getBoundingClientRect();
  const a = ((event.clientX - box.left) / box.width) * 2 * DOMAIN - DOMAIN;
  const b = DOMAIN - ((event.clientY - box.top) / box.height) * 2 * DOMAIN;
  let best = 0, distance = Infinity;
  page.points.train.forEach(([x, y], i) => {
    const d = (x - a) ** 2 + (y - b) ** 2;
    if (d < distance) { distance = d; best = i; }
  });
  page.sample = best;
  drawHeatmap();
  if (page.explainOf) requestExplain();
}

function drawLossCurve() {
  const canvas = $("loss-curve"), context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  const history = page.history.filter((h) => h[1] !== null && h[2] !== null);
  if (history.length < 2) return;
  const top = Math.max(...history.map((h) => Math.max(h[1], h[2]))) || 1;
  const first = history[0][0], last = history[history.length - 1][0] || 1;
  for (const [column, style] of [[2, "#333"], [1, "#999"]]) {
    context.beginPath();
    history.forEach((h, i) => {
      const x = ((h[0] - first) / Math.max(1, last - first)) * canvas.width;
      const y = canvas.height - (h[column] / top) * (canvas.height - 4);
      if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.strokeStyle = style; context.lineWidth = 1.5; context.stroke();
  }
}

// ---------------------------------------------------------------- explain panel
function openExplain(layer, neuron, input) {
  page.explainOf = [layer, neuron];
  page.weightOf = input;
  requestExplain();
}

function closeExplain() {
  page.explainOf = null; page.weightOf = null;
  $("explain").hidden = true;
  document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
}

function requestExplain() {
  page.explainPending = true;
  send({ type: "explain", layer: page.explainOf[0], neuron: page.explainOf[1], sample: page.sample });
}

function renderLines(container, sections, highlight) {
  container.innerHTML = "";
  const lines = [];
  for (const section of sections) {
    const heading = document.createElement("h3");
    heading.textContent = section.heading;
    container.appendChild(heading);
    for (const line of section.lines) {
      const div = document.createElement("div");
      div.className = line.lhs === null ? "eq text" : "eq";
      div.textContent = line.text;
      if (line.lhs !== null) div.dataset.lhs = line.lhs;
      if (line.value !== null) div.dataset.value = String(line.value);
      if (highlight && line.lhs !== null && highlight(line.lhs)) div.classList.add("highlight");
      container.appendChild(div);
      lines.push({ div, line, heading });
    }
  }
  return lines;
}

function onExplain(message) {
  page.explainPending = false;
  if (!page.explainOf || message.layer !== page.explainOf[0] || message.neuron !== page.explainOf[1]) return;
  $("explain").hidden = false;
  const output = message.layer === page.state.settings.hidden.length;
  $("explain-title").textContent = `${output ? "Output neuron" : "Neuron"} ${message.name}: layer ${message.layer + 1}, neuron ${message.neuron + 1}`;
  const inputs = message.inputs.map((i) => (i.label !== i.name ? `${i.name} = ${i.label}` : i.name) + ` = ${i.value.toPrecision(6)}`);
  $("explain-given").textContent = `Training sample #${message.sample} at (${message.point.map((v) => v.toFixed(3)).join(", ")}), target t_o1 = ${+message.target.toPrecision(6)}, epoch ${message.epoch}, \u03b7 = ${page.state.settings.learning_rate}. Inputs: ${inputs.join("; ")}. E = \u00bd(out_o1 \u2212 t_o1)\u00b2; the update is the notes' plain SGD step${penalty()}.`;
  const weight = page.weightOf === null ? null : page.weightOf;
  const name = weight === null ? null : weight < message.weights.length ? message.weights[weight] : null;
  $("explain-weight").hidden = name === null;
  if (name !== null) {
    $("weight-name").textContent = `${name} (from ${message.inputs[weight].name})`;
    const row = page.state.network.weights[message.layer][message.neuron];
    if (document.activeElement !== $("weight-value")) $("weight-value").value = row[weight];
  }
  renderLines($("explain-body"), message.sections, name === null ? null : (lhs) => lhs === `dE/d${name}` || lhs === `${name}'`);
  document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
  const selector = output ? ".neuron.output" : `.neuron[data-layer="${message.layer}"][data-neuron="${message.neuron}"]`;
  const selected = $("net").querySelector(selector);
  if (selected) selected.classList.add("selected");
}

function penalty() {
  const s = page.state.settings;
  if (s.regularization === "none" || !s.reg_rate) return "";
  const term = s.regularization === "l1" ? "\u03bb\u00b7\u03a3|w|" : "\u03bb\u00b7\u03a3w\u00b2";
  return ` (training also adds ${term} with \u03bb = ${s.reg_rate} and uses ${s.optimizer}; this derivation shows the data term and plain SGD)`;
}

function setWeight() {
  const value = parseFloat($("weight-value").value);
  if (!Number.isFinite(value)) { status("a weight must be a number"); return; }
  send({ type: "set_weight", layer: page.explainOf[0], neuron: page.explainOf[1], input: page.weightOf, value });
}

// ---------------------------------------------------------------- notes mode
function setMode(notes) {
  $("playground").hidden = notes; $("notes").hidden = !notes;
  $("mode-playground").classList.toggle("active", !notes); $("mode-notes").classList.toggle("active", notes);
  if (notes) {
    if (page.state && page.state.playing) send({ type: "pause" });
    if (!page.notes) requestNotes({});
  }
}

function requestNotes(extra) {
  send({ type: "notes", network: $("notes-network").value, sample: parseInt($("notes-sample").value || "0", 10), ...extra });
}

function onNotes(message) {
  const changed = !page.notes || page.notes.network !== message.network;
  page.notes = message;
  const select = $("notes-sample");
  if (changed || select.options.length !== message.samples.length) {
    select.innerHTML = "";
    message.samples.forEach((s, i) => select.add(new Option(`x = (${s.x.join(", ")}), t = (${s.t.join(", ")})`, String(i))));
  }
  select.value = String(message.sample);
  $("notes-step").textContent = message.steps + 1;
  page.notes.lines = renderLines($("notes-body"), message.sections, null);
  const given = message.sections[0].lines.length;
  page.notesCursor = Math.min(page.notes.lines.length, given + 1);
  showNotesCursor();
}

function showNotesCursor() {
  const lines = page.notes.lines;
  lines.forEach(({ div }, i) => {
    div.classList.toggle("later", i >= page.notesCursor);
    div.classList.toggle("current", i === page.notesCursor - 1);
  });
  const headings = new Set(lines.slice(0, page.notesCursor).map((l) => l.heading));
  lines.forEach(({ heading }) => { heading.hidden = !headings.has(heading); });
  const current = lines[page.notesCursor - 1];
  if (current) current.div.scrollIntoView({ block: "nearest" });
  drawNotesNetwork(current ? current.line : null);
}

function mentions(text, name) {
  return new RegExp(`(?<![A-Za-z0-9])${name.replace(/[^A-Za-z0-9_]/g, "")}(?![0-9_])`).test(text);
}

function drawNotesNetwork(line) {
  const svg = $("notes-net"), notes = page.notes;
  const focus = line && line.lhs ? line.text.split(" = ").slice(0, 2).join(" = ") : "";
  const ns = "http://www.w3.org/2000/svg";
  const add = (tag, attributes, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e); return e;
  };
  svg.innerHTML = "";
  const columns = notes.neurons, xs = columns.map((_, i) => 50 + (320 * i) / (columns.length - 1));
  const ys = columns.map((c) => c.map((_, j) => 150 + (j - (c.length - 1) / 2) * 110));
  notes.weights.forEach((matrix, l) => matrix.forEach((row, j) => row.forEach((w, i) => {
    const name = notes.weight_names[l][j][i], hot = mentions(focus, name);
    const [x1, y1, x2, y2] = [xs[l], ys[l][i], xs[l + 1], ys[l + 1][j]];
    add("line", { x1, y1, x2, y2, class: hot ? "hot" : "" });
    const t = 0.7, lx = x1 + (x2 - x1) * t, ly = y1 + (y2 - y1) * t - 7;
    add("text", { x: lx, y: ly, class: hot ? "weight hot" : "weight" }, `${name}=${+w.toPrecision(6)}`);
  })));
  columns.forEach((column, l) => column.forEach((name, j) => {
    const hot = mentions(focus, name);
    add("circle", { cx: xs[l], cy: ys[l][j], r: 20, class: hot ? "hot" : "" });
    add("text", { x: xs[l], y: ys[l][j] }, name);
    if (l > 0) add("text", { x: xs[l], y: ys[l][j] + 30, class: "weight" }, `b=${+notes.biases[l - 1][j].toPrecision(6)}`);
  }));
}

function moveNotes(delta) {
  if (!page.notes) return;
  page.notesCursor = Math.max(1, Math.min(page.notes.lines.length, page.notesCursor + delta));
  showNotesCursor();
}

// ---------------------------------------------------------------- export
function onExport(message) {
  const data = message.format === "script"
    ? new Blob([message.text], { type: "text/x-python" })
    : new Blob([Uint8Array.from(atob(message.base64), (c) => c.charCodeAt(0))], { type: "application/octet-stream" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(data); link.download = message.filename;
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  status(`exported ${message.filename}`);
}

// ---------------------------------------------------------------- wiring
function wire() {
  $("play").addEventListener("click", () => send({ type: page.state && page.state.playing ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step", epochs: 1 }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  for (const id of ["learning_rate", "activation", "optimizer", "regularization", "reg_rate", "dropout"]) {
    $(id).addEventListener("change", (e) => config({ [id]: e.target.dataset.number ? parseFloat(e.target.value) : e.target.value }));
  }
  for (const id of ["train_ratio", "noise", "batch_size"]) {
    $(id).addEventListener("input", (e) => { $(`${id}-value`).textContent = e.target.value; });
    $(id).addEventListener("change", (e) => config({ [id]: parseInt(e.target.value, 10) }));
  }
  document.querySelectorAll(".dataset").forEach((b) => b.addEventListener("click", () => { closeExplain(); config({ dataset: b.dataset.dataset }); }));
  $("regenerate").addEventListener("click", () => config({ seed: Math.floor(Math.random() * 1e6) }));
  $("add-layer").addEventListener("click", () => changeLayers(1));
  $("remove-layer").addEventListener("click", () => changeLayers(-1));
  $("show-test").addEventListener("change", drawHeatmap);
  $("discretize").addEventListener("change", () => { if (page.state) { drawNetwork(page.state); drawHeatmap(); } });
  $("heatmap").addEventListener("click", pickSample);
  $("explain-close").addEventListener("click", closeExplain);
  $("weight-set").addEventListener("click", setWeight);
  $("export-script").addEventListener("click", () => send({ type: "export", format: "script" }));
  $("export-safetensors").addEventListener("click", () => send({ type: "export", format: "safetensors" }));
  $("mode-playground").addEventListener("click", () => setMode(false));
  $("mode-notes").addEventListener("click", () => setMode(true));
  $("notes-network").addEventListener("change", () => { $("notes-sample").innerHTML = ""; requestNotes({ reset: true }); });
  $("notes-sample").addEventListener("change", () => requestNotes({}));
  $("notes-next").addEventListener("click", () => moveNotes(1));
  $("notes-prev").addEventListener("click", () => moveNotes(-1));
  $("notes-all").addEventListener("click", () => moveNotes(Infinity));
  $("notes-apply").addEventListener("click", () => requestNotes({ apply: true }));
  $("notes-reload").addEventListener("click", () => requestNotes({ reset: true }));
  window.addEventListener("resize", () => page.state && drawNetwork(page.state));
  document.addEventListener("keydown", (e) => {
    if ($("notes").hidden || e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight") moveNotes(1);
    if (e.key === "ArrowLeft") moveNotes(-1);
  });
  connect();
}

document.addEventListener("DOMContentLoaded", wire);
