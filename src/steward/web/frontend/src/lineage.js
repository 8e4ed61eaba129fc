// The lineage explorer (/lineage): the graph from the JSON API (the session cookie goes
// along, so the caller sees what the API shows them), laid out left to right by dagre,
// drawn as SVG. Bundled by esbuild into ../static/lineage.js; see docs/web.md.
import * as dagre from "@dagrejs/dagre";

const SVG = "http://www.w3.org/2000/svg";
const CHAR = 7.2; // px per character of the 12px monospace label font
const HEIGHT = 34;
const SIMPLEX_UP_TO = 200; // nodes; above it the faster longest-path ranking

const root = document.getElementById("lineage");
const svg = document.getElementById("graph");
const view = document.getElementById("graph-view");
const details = document.getElementById("details");
const status = document.getElementById("graph-status");

const state = {
  start: root.dataset.node,
  direction: root.dataset.direction,
  depth: root.dataset.depth,
  asOf: root.dataset.asOf || "",
  nodes: new Map(), // id -> {id, type, data, sameAs}
  edges: new Map(), // "origin>destination" -> {origin, destination}
  expanded: new Set(),
  hidden: new Set(),
  collapsed: new Map(), // id -> the ids its collapse hid
  selected: null,
  column: null, // {field, nodes: Set(dataset ids), edges: Map(edge key -> [labels])}
  positions: new Map(),
  zoom: { x: 0, y: 0, k: 1 },
  range: null,
};

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function html(name, text, parent, attrs) {
  const node = document.createElement(name);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function api(path) {
  return window.steward.api(path);
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null) q.set(k, v);
  return q.toString();
}

function label(node) {
  return node.data && node.data.name ? node.data.name : node.id;
}

// --- the model -------------------------------------------------------------------

function merge(answer) {
  for (const item of answer.graph) {
    const known = state.nodes.get(item.id);
    if (!known || (known.data && known.data.described === false && item.data.described !== false)) {
      // Other names of a dataset the viewer may not describe are its symlinks: not shown.
      const sameAs = item.data.described === false ? [] : item.sameAs || [];
      state.nodes.set(item.id, { id: item.id, type: item.type, data: item.data, sameAs });
    }
    for (const e of item.inEdges.concat(item.outEdges)) {
      state.edges.set(e.origin + ">" + e.destination, { origin: e.origin, destination: e.destination });
    }
  }
}

function shownEdges() {
  const out = [];
  for (const [key, e] of state.edges) {
    if (state.nodes.has(e.origin) && state.nodes.has(e.destination) &&
        !state.hidden.has(e.origin) && !state.hidden.has(e.destination)) out.push([key, e]);
  }
  return out;
}

function adjacency(forward) {
  const out = new Map();
  for (const e of state.edges.values()) {
    const [a, b] = forward ? [e.origin, e.destination] : [e.destination, e.origin];
    if (!out.has(a)) out.set(a, []);
    out.get(a).push(b);
  }
  return out;
}

function reach(from, forward, avoid) {
  const links = adjacency(forward);
  const seen = new Set([from]);
  const todo = [from];
  while (todo.length) {
    const id = todo.pop();
    for (const next of links.get(id) || []) {
      if (next === avoid || seen.has(next) || !state.nodes.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return seen;
}

// Collapse: hide what lies beyond the node, away from the start, that the start does
// not also reach another way.
function collapse(id) {
  if (id === state.start) return;
  const downstream = reach(state.start, true).has(id);
  const beyond = reach(id, downstream);
  const kept = reach(state.start, downstream, id);
  const hide = [];
  for (const n of beyond) if (n !== id && !kept.has(n) && !state.hidden.has(n)) hide.push(n);
  for (const n of hide) state.hidden.add(n);
  state.collapsed.set(id, hide);
  state.expanded.delete(id);
  draw();
}

function expand(id) {
  const hid = state.collapsed.get(id);
  if (hid) {
    for (const n of hid) state.hidden.delete(n);
    state.collapsed.delete(id);
  }
  state.expanded.add(id);
  status.textContent = "Expanding " + label(state.nodes.get(id)) + "…";
  const q = query({ nodeId: id, depth: 1, direction: "both", asOf: state.asOf });
  return api("/api/v1/lineage?" + q).then((answer) => {
    merge(answer);
    draw();
    focusNode(id);
  }, failed);
}

function failed(error) {
  status.textContent = "Could not load: " + error.message;
}

// --- layout and drawing -----------------------------------------------------------

function layout(ids, edges) {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  // dagre's default ranker (network simplex) draws the tightest layers but grows much
  // faster than linearly: 8 s at 1,000 nodes here, against 0.7 s for longest-path.
  const ranker = ids.length > SIMPLEX_UP_TO ? "longest-path" : "network-simplex";
  g.setGraph({ rankdir: "LR", ranker, nodesep: 14, ranksep: 70, edgesep: 8, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const id of ids) {
    const node = state.nodes.get(id);
    g.setNode(id, { width: boxWidth(node), height: HEIGHT });
  }
  // A transformation label is laid out as part of its edge, so it overlaps nothing.
  for (const [key, e] of edges) {
    const text = edgeLabel(key);
    const size = text ? { label: text, width: text.length * 6.6 + 8, height: 16, labelpos: "c" } : {};
    g.setEdge(e.origin, e.destination, size);
  }
  const began = performance.now();
  dagre.layout(g);
  root.setAttribute("data-layout-ms", String(Math.round(performance.now() - began)));
  state.positions = new Map(ids.map((id) => [id, g.node(id)]));
  state.edgePoints = new Map(edges.map(([key, e]) => [key, g.edge(e.origin, e.destination)]));
  return g.graph();
}

function edgeLabel(key) {
  const labels = state.column && state.column.edges.get(key);
  return labels && labels.length ? labels.join("; ") : "";
}

function boxWidth(node) {
  const extra = node.sameAs.length ? 4 : 0;
  return Math.max(60, (label(node).length + extra + 4) * CHAR);
}

function draw() {
  const ids = [...state.nodes.keys()].filter((id) => !state.hidden.has(id));
  const edges = shownEdges();
  const size = layout(ids, edges);
  view.textContent = "";
  const edgeLayer = el("g", { class: "edges" }, view);
  const labelLayer = el("g", { class: "edge-labels" }, view);
  const nodeLayer = el("g", { class: "nodes" }, view);
  for (const [key, e] of edges) {
    const laid = state.edgePoints.get(key);
    const points = laid.points;
    const d = "M" + points.map((p) => p.x.toFixed(1) + "," + p.y.toFixed(1)).join("L");
    const lit = state.column && state.column.edges.has(key);
    el("path", { d, class: lit ? "edge lit" : "edge", "marker-end": "url(#arrow)", "data-edge": key }, edgeLayer);
    const text = edgeLabel(key);
    if (text) {
      const w = text.length * 6.6 + 8;
      el("rect", { x: laid.x - w / 2, y: laid.y - 8, width: w, height: 16, rx: 3, class: "edge-label-box" }, labelLayer);
      const t = el("text", { x: laid.x, y: laid.y + 4, class: "edge-label", "text-anchor": "middle", "data-testid": "transformation" }, labelLayer);
      t.textContent = text;
    }
  }
  for (const id of ids) {
    const node = state.nodes.get(id);
    const p = state.positions.get(id);
    const classes = ["node", node.type === "JOB" ? "job" : "dataset"];
    if (id === state.start) classes.push("start");
    if (id === state.selected) classes.push("selected");
    if (state.column && state.column.nodes.has(id)) classes.push("lit");
    if (node.data.described === false) classes.push("undescribed");
    if (state.collapsed.has(id)) classes.push("collapsed");
    const kind = node.type === "JOB" ? "job" : "dataset";
    const more = state.collapsed.has(id) ? ", collapsed" : state.expanded.has(id) ? ", expanded" : "";
    const g = el("g", {
      class: classes.join(" "),
      transform: "translate(" + (p.x - p.width / 2).toFixed(1) + "," + (p.y - p.height / 2).toFixed(1) + ")",
      tabindex: "0",
      role: "button",
      "data-id": id,
      "aria-label": kind + " " + label(node) + more + ". Enter expands, minus collapses.",
    }, nodeLayer);
    el("rect", { width: p.width, height: p.height, rx: node.type === "JOB" ? 14 : 3 }, g);
    const t = el("text", { x: 2 * CHAR, y: HEIGHT / 2 + 4 }, g);
    t.textContent = label(node) + (node.sameAs.length ? " ≡" + node.sameAs.length : "");
    const title = el("title", {}, g);
    title.textContent = id + (node.sameAs.length ? "\nalso: " + node.sameAs.join(", ") : "");
  }
  svg.setAttribute("data-width", size.width);
  svg.setAttribute("data-height", size.height);
  svg.setAttribute("data-nodes", ids.length);
  status.textContent = ids.length + " nodes, " + edges.length + " edges" +
    (state.asOf ? " as of " + state.asOf : "") + (state.column ? "; column " + state.column.field : "");
  fillSearch(ids);
  applyZoom();
  root.setAttribute("data-ready", "true");
}

// --- pan, zoom, find ---------------------------------------------------------------

function applyZoom() {
  const z = state.zoom;
  view.setAttribute("transform", "translate(" + z.x.toFixed(1) + "," + z.y.toFixed(1) + ") scale(" + z.k.toFixed(4) + ")");
}

function fit() {
  const w = +svg.getAttribute("data-width") || 1;
  const h = +svg.getAttribute("data-height") || 1;
  const box = svg.getBoundingClientRect();
  const k = Math.min(1.5, box.width / w, box.height / h);
  state.zoom = { k, x: (box.width - w * k) / 2, y: (box.height - h * k) / 2 };
  applyZoom();
}

function zoomBy(factor, cx, cy) {
  const z = state.zoom;
  const box = svg.getBoundingClientRect();
  cx = cx === undefined ? box.width / 2 : cx;
  cy = cy === undefined ? box.height / 2 : cy;
  const k = Math.max(0.02, Math.min(4, z.k * factor));
  state.zoom = { k, x: cx - ((cx - z.x) * k) / z.k, y: cy - ((cy - z.y) * k) / z.k };
  applyZoom();
}

function centreOn(id) {
  const p = state.positions.get(id);
  if (!p) return;
  const box = svg.getBoundingClientRect();
  const k = Math.max(state.zoom.k, 0.8);
  state.zoom = { k, x: box.width / 2 - p.x * k, y: box.height / 2 - p.y * k };
  applyZoom();
}

function nodeElement(id) {
  return view.querySelector('g.node[data-id="' + CSS.escape(id) + '"]');
}

function focusNode(id) {
  const g = nodeElement(id);
  if (g) g.focus({ preventScroll: true });
}

function fillSearch(ids) {
  const list = document.getElementById("node-names");
  list.textContent = "";
  for (const id of ids.slice(0, 5000)) html("option", null, list, { value: label(state.nodes.get(id)) });
}

function find(text) {
  text = text.trim().toLowerCase();
  if (!text) return;
  const ids = [...state.nodes.keys()].filter((id) => !state.hidden.has(id));
  const exact = ids.find((id) => label(state.nodes.get(id)).toLowerCase() === text || id.toLowerCase() === text);
  const found = exact || ids.find((id) => id.toLowerCase().includes(text));
  if (!found) {
    status.textContent = "No node matches " + JSON.stringify(text);
    return;
  }
  select(found);
  centreOn(found);
  focusNode(found);
}

// --- details: datasets, columns, jobs and runs -------------------------------------

function select(id) {
  state.selected = id;
  for (const g of view.querySelectorAll("g.node.selected")) g.classList.remove("selected");
  const g = nodeElement(id);
  if (g) g.classList.add("selected");
  const node = state.nodes.get(id);
  details.textContent = "";
  html("h2", label(node), details, { id: "details-title" });
  html("p", (node.type === "JOB" ? "Job " : "Dataset ") + node.data.namespace, details, { class: "muted" });
  const actions = html("p", null, details);
  const ex = html("button", "Expand", actions, { type: "button" });
  ex.addEventListener("click", () => expand(id));
  const co = html("button", "Collapse", actions, { type: "button" });
  co.disabled = id === state.start;
  co.addEventListener("click", () => collapse(id));
  if (node.type === "DATASET") {
    html("a", "Open lineage from here", actions, { href: "/lineage?" + query({ node: id }) });
  }
  if (node.sameAs.length) {
    html("h3", "Also known as", details);
    const ul = html("ul", null, details, { "data-testid": "same-as" });
    for (const other of node.sameAs) html("li", other, ul);
  }
  if (node.type === "JOB") return showJob(node);
  if (node.data.described === false) {
    html("p", "You may not describe this dataset: only its name is shown.", details, { "data-testid": "undescribed" });
    return;
  }
  html("p", null, details).appendChild(html("a", "Dataset page", null, { href: "/datasets/" + encodeURIComponent(id) }));
  const owners = (node.data.owners || []).map((o) => o.name).join(", ");
  html("p", "Owners: " + (owners || "none"), details);
  if (node.data.description) html("p", node.data.description, details);
  fillColumns(node);
}

function flatFields(fields, out) {
  for (const f of fields || []) {
    out.push(f.path || f.name);
    flatFields(f.fields, out);
  }
  return out;
}

function columnPaths(columns, prefix, out) {
  for (const c of columns || []) {
    const path = c.path || prefix + c.name;
    out.push(path);
    columnPaths(c.fields, path + ".", out);
  }
  return out;
}

// A dataset's columns: from its lineage schema, else from the catalog's page of it.
function fillColumns(node) {
  const names = flatFields(node.data.fields, []);
  if (names.length) return listColumns(node, names);
  listColumns(node, []);
  api("/api/v1/datasets/" + encodeURIComponent(node.id)).then((view) => {
    if (state.selected === node.id) listColumns(node, columnPaths(view.columns, "", []));
  }, () => {});
}

function listColumns(node, names) {
  const pick = document.getElementById("column");
  pick.textContent = "";
  html("option", "— no column —", pick, { value: "" });
  const values = names.map((name) => node.id.replace(/^dataset:/, "datasetField:") + ":" + name);
  names.forEach((name, i) => html("option", name, pick, { value: values[i] }));
  // The column shown stays chosen while another dataset is selected.
  if (state.column) {
    if (!values.includes(state.column.fieldId)) {
      html("option", state.column.fieldId.replace(/^datasetField:/, ""), pick, { value: state.column.fieldId });
    }
    pick.value = state.column.fieldId;
  }
  pick.disabled = pick.options.length < 2;
}

function showJob(node) {
  const ns = encodeURIComponent(node.data.namespace);
  const name = encodeURIComponent(node.data.name);
  const run = node.data.latestRun;
  html("p", "Latest run: " + (run ? run.state + " " + (run.endedAt || run.startedAt || "") : "none"), details, { "data-testid": "latest-run" });
  const list = html("ol", null, details, { "data-testid": "runs", "aria-label": "Runs, newest first" });
  api("/api/v1/jobs/" + ns + "/" + name).then((job) => {
    if (job.description) html("p", job.description, details);
  }, () => {});
  api("/api/v1/jobs/" + ns + "/" + name + "/runs?limit=20").then((answer) => {
    for (const r of answer.runs || []) {
      html("li", r.state + " · " + (r.startedAt || r.createdAt) + " · " + r.id, list);
    }
    if (!list.children.length) html("li", "no runs", list);
  }, failed);
}

// --- column mode -------------------------------------------------------------------

function datasetOfField(item) {
  return "dataset:" + item.data.namespace + ":" + item.data.dataset;
}

function showColumn(fieldId) {
  if (!fieldId) {
    state.column = null;
    draw();
    return Promise.resolve();
  }
  const q = query({ nodeId: fieldId, direction: state.direction, depth: state.depth, asOf: state.asOf });
  return api("/api/v1/column-lineage?" + q).then((answer) => {
    const datasets = new Map(answer.graph.map((f) => [f.id, datasetOfField(f)]));
    const names = new Map(answer.graph.map((f) => [f.id, f.data.field]));
    const lit = { fieldId, field: fieldId.split(":").pop(), nodes: new Set(datasets.values()), edges: new Map() };
    const missing = [];
    for (const f of answer.graph) {
      for (const e of f.outEdges) {
        const from = datasets.get(e.origin);
        const to = datasets.get(e.destination);
        if (!from || !to) continue;
        lit.nodes.add(e.job);
        for (const id of [from, to, e.job]) if (!state.nodes.has(id)) missing.push(id);
        const into = lit.edges.get(e.job + ">" + to) || [];
        const how = (e.transformations || []).map((t) =>
          [t.type, t.subtype].filter(Boolean).join("/") + (t.description ? " " + t.description : ""));
        into.push(names.get(e.origin) + "→" + names.get(e.destination) + (how.length ? ": " + how.join(", ") : "") + (e.indirect ? " (indirect)" : ""));
        lit.edges.set(e.job + ">" + to, into);
        if (!lit.edges.has(from + ">" + e.job)) lit.edges.set(from + ">" + e.job, []);
      }
    }
    for (const id of lit.nodes) state.hidden.delete(id);
    state.column = lit;
    const fetches = [...new Set(missing)].map((id) =>
      api("/api/v1/lineage?" + query({ nodeId: id, depth: 1, direction: "both", asOf: state.asOf })).then(merge, () => {}));
    return Promise.all(fetches).then(() => {
      draw();
      fit();
    });
  }, failed);
}

// --- time ----------------------------------------------------------------------------

function setupSlider() {
  const slider = document.getElementById("as-of");
  const shown = document.getElementById("as-of-value");
  // From a day before the earliest run or dataset shown (event times), to now.
  let low = Infinity;
  for (const n of state.nodes.values()) {
    const run = n.data.latestRun || {};
    for (const v of [n.data.createdAt, run.startedAt, run.endedAt, run.nominalStartTime]) {
      const t = Date.parse(v || "");
      if (!isNaN(t)) low = Math.min(low, t - 86400000);
    }
  }
  const high = Date.now();
  if (!isFinite(low) || low >= high) low = high - 86400000;
  state.range = [low, high];
  slider.setAttribute("data-low", String(low));
  slider.setAttribute("data-high", String(high));
  const steps = +slider.max;
  const chosen = state.asOf ? Date.parse(state.asOf) : high;
  slider.value = String(Math.round(((chosen - low) / (high - low)) * steps));
  // A time on the slider, to the minute ("" at its right end: now).
  const when = (v) => {
    if (+v >= steps) return "";
    const t = low + ((high - low) * +v) / steps;
    return new Date(Math.round(t / 60000) * 60000).toISOString().replace(":00.000Z", "Z");
  };
  const say = () => { shown.textContent = when(slider.value) || "now"; };
  say();
  slider.addEventListener("input", say);
  slider.addEventListener("change", () => {
    say();
    state.asOf = when(slider.value);
    reload();
  });
}

function reload() {
  const q = query({ nodeId: state.start, direction: state.direction, depth: state.depth, asOf: state.asOf });
  const page = query({ node: state.start, direction: state.direction, depth: state.depth, asOf: state.asOf });
  history.replaceState(null, "", "/lineage?" + page);
  document.getElementById("impact").href = "/lineage/impact.csv?" + query({ node: state.start, asOf: state.asOf });
  status.textContent = "Loading…";
  const asked = performance.now();
  return api("/api/v1/lineage?" + q).then((answer) => {
    root.setAttribute("data-fetch-ms", String(Math.round(performance.now() - asked)));
    state.nodes = new Map();
    state.edges = new Map();
    state.hidden = new Set();
    state.collapsed = new Map();
    state.expanded = new Set();
    if (answer.graph.length) state.start = answer.graph[0].id;
    merge(answer);
    if (state.selected && !state.nodes.has(state.selected)) select(state.start);
    if (state.column) return showColumn(state.column.fieldId).then(fit);
    draw();
    fit();
  }, failed);
}

// --- export ----------------------------------------------------------------------------

const EXPORT_STYLE = "text{font:12px monospace;fill:#1a1a1a}.dataset rect{fill:#eef4fb;stroke:#2a5d9f}" +
  ".job rect{fill:#fdf3e1;stroke:#8a5a00}.start rect{stroke-width:3px}.lit rect{fill:#ffe97a;stroke:#7a5a00;stroke-width:2px}" +
  ".undescribed rect{fill:#f2f2f2;stroke:#767676;stroke-dasharray:4 3}.edge{fill:none;stroke:#6b6b6b}" +
  ".edge.lit{stroke:#b35c00;stroke-width:3px}.edge-label{font-size:11px;fill:#5a2d00}.edge-label-box{fill:#fff8e6;stroke:#b35c00}";

function exportSvg() {
  const w = +svg.getAttribute("data-width");
  const h = +svg.getAttribute("data-height");
  const copy = el("svg", { xmlns: SVG, width: w, height: h, viewBox: "0 0 " + w + " " + h });
  const style = el("style", {}, copy);
  style.textContent = EXPORT_STYLE;
  copy.appendChild(svg.querySelector("defs").cloneNode(true));
  const body = view.cloneNode(true);
  body.removeAttribute("transform");
  body.removeAttribute("id");
  for (const g of body.querySelectorAll("[tabindex]")) g.removeAttribute("tabindex");
  copy.appendChild(body);
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

function download(name, blob) {
  const a = html("a", null, document.body, { download: name, href: URL.createObjectURL(blob) });
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function fileName(ext) {
  return "lineage-" + label(state.nodes.get(state.start) || { id: "graph" }).replace(/[^A-Za-z0-9._-]+/g, "_") + "." + ext;
}

function exportPng() {
  const text = exportSvg();
  const image = new Image();
  const w = +svg.getAttribute("data-width");
  const h = +svg.getAttribute("data-height");
  const scale = Math.min(2, 16000 / Math.max(w, h));
  image.onload = () => {
    const canvas = html("canvas", null, null, { width: Math.ceil(w * scale), height: Math.ceil(h * scale) });
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(scale, scale);
    ctx.drawImage(image, 0, 0);
    canvas.toBlob((blob) => download(fileName("png"), blob), "image/png");
  };
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 8192) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  image.src = "data:image/svg+xml;base64," + btoa(bin);
}

// --- wiring ------------------------------------------------------------------------------

function nodeOf(event) {
  const g = event.target.closest && event.target.closest("g.node");
  return g ? g.getAttribute("data-id") : null;
}

function wire() {
  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (nodeOf(event)) return;
    drag = { x: event.clientX, y: event.clientY, z: { ...state.zoom } };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    state.zoom = { k: drag.z.k, x: drag.z.x + event.clientX - drag.x, y: drag.z.y + event.clientY - drag.y };
    applyZoom();
  });
  svg.addEventListener("pointerup", () => { drag = null; });
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    zoomBy(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  svg.addEventListener("click", (event) => {
    const id = nodeOf(event);
    if (!id) return;
    select(id);
    if (!state.expanded.has(id)) expand(id);
  });
  svg.addEventListener("keydown", (event) => {
    const id = nodeOf(event);
    if (!id) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      select(id);
      expand(id);
    } else if (event.key === "-" || event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      select(id);
      collapse(id);
      focusNode(id);
    }
  });
  document.getElementById("zoom-in").addEventListener("click", () => zoomBy(1.25));
  document.getElementById("zoom-out").addEventListener("click", () => zoomBy(0.8));
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("export-svg").addEventListener("click", () =>
    download(fileName("svg"), new Blob([exportSvg()], { type: "image/svg+xml" })));
  document.getElementById("export-png").addEventListener("click", exportPng);
  document.getElementById("column").addEventListener("change", (event) => showColumn(event.target.value));
  const search = document.getElementById("find");
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      find(search.value);
    }
  });
  search.addEventListener("change", () => find(search.value));
}

wire();
root.classList.add("live");
reload().then(() => {
  setupSlider();
  const start = state.nodes.get(state.start);
  if (start) {
    // A large graph opens at a readable size on its start (pan, zoom or Fit for the whole).
    if (state.zoom.k < 0.6) {
      state.zoom.k = 1;
      centreOn(state.start);
    }
    select(state.start);
    state.expanded.add(state.start);
  }
  root.setAttribute("data-loaded", String(performance.now()));
});
