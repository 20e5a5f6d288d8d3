// Attendance over time, drawn in the page as SVG: one small chart per room with two lines,
// web (solid, circles) and Hubs (dashed, squares), on a time axis and a people axis that
// all rooms share, so rooms compare at a glance. Colours come from admin.css (Okabe-Ito,
// as the server's chart), so line style and marker tell the sources apart without colour.
//
// Drawn here rather than fetched from /attendance.svg: live frames add the running minute
// every second without a request, and both sources get their own line.

import { fmtDateTime, fmtNumber, fmtTime } from "./common.js";
import { berlinOffsetMinutes, isoToBerlinLocal } from "./admin-time.js";

const NS = "http://www.w3.org/2000/svg";
const LEFT = 34;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 26;
const MAX_MARKERS = 10;
const STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// A round top for the people axis and its step (at most about 4 ticks).
export function niceMax(value) {
  if (value <= 4) return { top: Math.max(value, 1), step: 1 };
  const raw = value / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return { top: Math.ceil(value / step) * step, step };
}

// Round times on Berlin's clock between start and end, at most about 5 of them.
function timeTicks(start, end) {
  const span = Math.max(1, (end - start) / 60000);
  const step = STEPS_MIN.find((s) => span / s <= 4) || STEPS_MIN[STEPS_MIN.length - 1];
  const ms = step * 60000;
  const offset = berlinOffsetMinutes(start) * 60000; // so 2-hour steps fall on 10:00, 12:00 there
  const ticks = [];
  for (let tick = Math.ceil((start + offset) / ms) * ms - offset; tick <= end; tick += ms) ticks.push(tick);
  return ticks;
}

function clock(ms, withDate) {
  const iso = new Date(ms).toISOString();
  return withDate ? fmtDateTime(iso, { day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit" }) : fmtTime(iso);
}

function markers(group, coords, shape, cls) {
  const every = Math.max(1, Math.ceil(coords.length / MAX_MARKERS));
  const picked = coords.filter((_, i) => i % every === 0 || i === coords.length - 1);
  for (const [x, y] of picked) {
    if (shape === "circle") group.append(svg("circle", { class: `mark ${cls}`, cx: x.toFixed(1), cy: y.toFixed(1), r: 3.5 }));
    else group.append(svg("rect", { class: `mark ${cls}`, x: (x - 3.5).toFixed(1), y: (y - 3.5).toFixed(1), width: 7, height: 7 }));
  }
}

// One room's chart. `points`: [{t (ms), web, hubs}] in time order; `start`, `end` (ms) and
// `top` are shared by all rooms; `label` is the accessible name (title and numbers).
// `width`: the pixels it gets, so its text is drawn at the page's size (no scaling down
// to unreadable labels on a phone).
export function roomChart({ points, start, end, top, label, width = 360 }) {
  const W = Math.round(Math.min(560, Math.max(240, width)));
  const H = Math.round(Math.min(200, Math.max(150, W * 0.5)));
  const scale = niceMax(top);
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const span = Math.max(60000, end - start);
  const x = (t) => LEFT + ((t - start) / span) * plotW;
  const y = (n) => TOP + plotH - (n / scale.top) * plotH;
  const day = (ms) => isoToBerlinLocal(new Date(ms).toISOString()).slice(0, 10);
  const withDate = day(start) !== day(start + span);

  const root = svg("svg", { class: "room-chart-svg", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, preserveAspectRatio: "xMidYMid meet" });
  root.append(svg("title", {}, label));
  const grid = svg("g", { class: "grid" });
  const labels = svg("g", { class: "axis-labels" });
  for (let n = 0; n <= scale.top; n += scale.step) {
    grid.append(svg("line", { x1: LEFT, x2: LEFT + plotW, y1: y(n).toFixed(1), y2: y(n).toFixed(1) }));
    labels.append(svg("text", { x: LEFT - 6, y: (y(n) + 4).toFixed(1), "text-anchor": "end" }, fmtNumber(n)));
  }
  for (const tick of timeTicks(start, start + span)) {
    grid.append(svg("line", { x1: x(tick).toFixed(1), x2: x(tick).toFixed(1), y1: TOP + plotH, y2: TOP + plotH + 4 }));
    // Labels at the ends stay inside the chart.
    const anchor = x(tick) > W - RIGHT - 24 ? "end" : x(tick) < LEFT + 24 ? "start" : "middle";
    labels.append(svg("text", { x: x(tick).toFixed(1), y: TOP + plotH + 18, "text-anchor": anchor }, clock(tick, withDate)));
  }
  root.append(grid, labels, svg("path", { class: "axis", d: `M${LEFT},${TOP}V${TOP + plotH}H${LEFT + plotW}` }));

  for (const [source, shape] of [["web", "circle"], ["hubs", "square"]]) {
    const coords = points.map((p) => [x(p.t), y(p[source])]);
    const group = svg("g", { class: `series series-${source}`, "data-source": source });
    if (coords.length > 1) group.append(svg("polyline", { class: `line line-${source}`, points: coords.map(([cx, cy]) => `${cx.toFixed(1)},${cy.toFixed(1)}`).join(" ") }));
    markers(group, coords, shape, `mark-${source}`);
    root.append(group);
  }
  return root;
}
