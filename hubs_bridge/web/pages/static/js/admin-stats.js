// Attendance of the chosen event, web and Hubs side by side: a table per room (now, peak,
// and the web-only statistics of the record) and a chart per room over time, both kept
// current by the live attendance frames; "Aktualisieren" reads the record again.
//
// Sources: GET /attendance (web visits from the record: peak, unique people, dwell time),
// attendance-minutes.csv (web and Hubs per room and minute, as sampled by the server) and
// the live frames (web and Hubs now). Hubs counts are people in the Hubs room, entering or
// in its lobby: the same sum the samples keep.

import { clear, el, errorText, fmtDateTime, fmtNumber, fmtTime, localized, t } from "./common.js";
import { fetchBlob, selectedEvent, staff } from "./admin-state.js";
import { live, onLive } from "./admin-live.js";
import { roomChart } from "./admin-chart.js";
import { onSectionShown } from "./admin-sections.js";

const EVENT_KEY = "_event";
const MINUTE = 60000;
const REPORT_EVERY_MS = 15000; // the record's statistics again at most this often while counts move
const tbody = document.querySelector("#stats-table tbody");
const errorBox = document.getElementById("stats-error");
const charts = document.getElementById("chart");
const chartEmpty = document.getElementById("chart-empty");
const dataBox = document.getElementById("chart-data");
const dataBody = document.querySelector("#chart-table tbody");
const badge = document.getElementById("stats-live");

let report = null;
let samples = []; // [{t, room, web, hubs}] from the server, by minute
let liveMinutes = new Map(); // minute (ms) -> {slug: {web, hubs}} as the live frames said
let seenPeaks = {}; // key -> {n, at}: web peaks seen live since the record was read
let loadedFor = null;
let reportAt = 0;
let reportTimer = null;
let renderTimer = null;
let lastCounts = "";

const minuteOf = (ms) => Math.floor(ms / MINUTE) * MINUTE;
const hubsOf = (counts) => (counts.hubs_room || 0) + (counts.hubs_entering || 0) + (counts.hubs_lobby || 0);
const mine = () => loadedFor !== null && live.event === loadedFor && live.online !== null;

function roomTitle(event, slug) {
  if (slug === EVENT_KEY) return t("admin.stats.total");
  const room = event.rooms.find((r) => r.slug === slug);
  return room ? localized(room, "title") : slug;
}

function roomOrder(event) {
  const slugs = event.rooms.map((r) => r.slug);
  for (const s of samples) if (!slugs.includes(s.room)) slugs.push(s.room);
  return slugs;
}

// Every room's points over time: the server's samples, then minutes only the live frames
// saw, and the running minute as it is now.
function seriesOf(slugs) {
  const out = new Map(slugs.map((slug) => [slug, new Map()]));
  for (const [minute, rooms] of liveMinutes) {
    for (const [slug, counts] of Object.entries(rooms)) out.get(slug)?.set(minute, { t: minute, ...counts });
  }
  for (const s of samples) out.get(s.room)?.set(s.t, { t: s.t, web: s.web, hubs: s.hubs });
  if (mine() && live.state === "open") {
    const now = minuteOf(Date.now());
    for (const slug of slugs) {
      const counts = live.rooms[slug];
      if (counts) out.get(slug).set(now, { t: now, web: counts.web || 0, hubs: hubsOf(counts) });
    }
  }
  return new Map([...out].map(([slug, points]) => [slug, [...points.values()].sort((a, b) => a.t - b.t)]));
}

function peakOf(points, value) {
  let best = null;
  for (const p of points) if (best === null || value(p) > best.n) best = { n: value(p), at: p.t };
  return best;
}

function dwell(seconds) {
  return seconds == null ? t("admin.stats.none") : t("admin.stats.minutes", { n: fmtNumber(Math.round((seconds / 60) * 10) / 10) });
}

function numberCell(kind, n, extra = null) {
  if (n === null || n === undefined) return el("td", { class: "num", dataset: { count: kind } }, t("admin.stats.none"));
  return el("td", { class: "num", dataset: { count: kind, value: String(n) } }, fmtNumber(n), extra);
}

function peakCell(kind, peak) {
  if (!peak) return numberCell(kind, null);
  const at = peak.at ? el("span", { class: "peak-at" }, t("admin.stats.peak_at", { time: fmtTime(new Date(peak.at).toISOString()) })) : null;
  return numberCell(kind, peak.n, at);
}

// The larger of the record's web peak and one seen live since.
function webPeak(key) {
  const s = report?.stats[key];
  const recorded = s ? { n: s.peak, at: s.peak_at ? Date.parse(s.peak_at) : null } : null;
  const seen = seenPeaks[key];
  if (!recorded) return seen || null;
  return seen && seen.n > recorded.n ? seen : recorded;
}

function nowCounts(key, slugs) {
  if (!mine()) {
    const s = report?.stats[key];
    return { web: s ? s.current : null, hubs: null, stale: false };
  }
  if (key === EVENT_KEY) {
    return { web: live.online, hubs: slugs.reduce((sum, slug) => sum + hubsOf(live.rooms[slug] || {}), 0), stale: false };
  }
  const counts = live.rooms[key];
  return counts ? { web: counts.web || 0, hubs: hubsOf(counts), stale: Boolean(counts.stale) } : { web: 0, hubs: 0, stale: false };
}

function renderTable(event, slugs, series) {
  clear(tbody);
  if (!report && !mine()) return;
  const totals = new Map();
  for (const points of series.values()) {
    for (const p of points) totals.set(p.t, (totals.get(p.t) || 0) + p.hubs);
  }
  const totalPoints = [...totals].map(([time, hubs]) => ({ t: time, hubs }));
  for (const key of [EVENT_KEY, ...slugs]) {
    const s = report?.stats[key];
    const now = nowCounts(key, slugs);
    const hubsPeak = peakOf(key === EVENT_KEY ? totalPoints : series.get(key) || [], (p) => p.hubs);
    const stale = now.stale ? el("span", { class: "badge badge-warn stale" }, t("admin.stats.stale")) : null;
    tbody.append(
      el(
        "tr",
        { dataset: { room: key }, class: key === EVENT_KEY ? "total-row" : null },
        el("th", { scope: "row" }, roomTitle(event, key)),
        numberCell("web-now", now.web),
        numberCell("hubs-now", now.hubs, stale ? [" ", stale] : null),
        peakCell("web-peak", webPeak(key)),
        peakCell("hubs-peak", hubsPeak && (hubsPeak.n > 0 ? hubsPeak : { n: 0, at: null })),
        numberCell("unique", s ? s.unique_visitors : null),
        el("td", { class: "num", dataset: { count: "dwell-median" } }, dwell(s?.dwell_median_s)),
        el("td", { class: "num", dataset: { count: "dwell-mean" } }, dwell(s?.dwell_mean_s)),
      ),
    );
  }
}

function chartLabel(title, points, now) {
  const web = peakOf(points, (p) => p.web);
  const hubs = peakOf(points, (p) => p.hubs);
  const time = (ms) => fmtTime(new Date(ms).toISOString());
  return t("admin.chart.room_alt", {
    room: title,
    start: time(points[0].t),
    end: time(points[points.length - 1].t),
    web: fmtNumber(web.n),
    web_at: time(web.at),
    hubs: fmtNumber(hubs.n),
    hubs_at: time(hubs.at),
    now: now ? t("admin.chart.now", { web: fmtNumber(now.web), hubs: fmtNumber(now.hubs) }) : "",
  }).trim();
}

function renderCharts(event, slugs, series) {
  clear(charts);
  const all = [...series.values()].flat();
  chartEmpty.hidden = all.length > 0;
  if (!all.length) return;
  const start = Math.min(...all.map((p) => p.t));
  const end = Math.max(start + MINUTE, ...all.map((p) => p.t));
  const top = Math.max(1, ...all.map((p) => Math.max(p.web, p.hubs)));
  for (const slug of slugs) {
    const points = series.get(slug);
    if (!points.length) continue;
    const title = roomTitle(event, slug);
    const now = mine() && live.state === "open" && live.rooms[slug] ? nowCounts(slug, slugs) : null;
    const figure = el("figure", { class: "room-chart", dataset: { room: slug } }, el("figcaption", { class: "room-chart-title" }, title));
    charts.append(figure);
    // Drawn at the width it gets (hidden: a default; drawn again when the section is shown).
    const width = figure.clientWidth ? figure.clientWidth - 18 : 360;
    figure.append(roomChart({ points, start, end, top, width, label: chartLabel(title, points, now) }));
  }
}

function renderData(event, slugs, series) {
  clear(dataBody);
  const rows = slugs.flatMap((slug) => series.get(slug).map((p) => ({ ...p, room: slug }))).sort((a, b) => a.t - b.t);
  document.getElementById("chart-data-empty").hidden = rows.length > 0;
  if (!dataBox.open) return; // drawn when opened: a long event has thousands of rows
  for (const row of rows) {
    dataBody.append(
      el(
        "tr",
        { dataset: { room: row.room } },
        el("td", {}, fmtDateTime(new Date(row.t).toISOString(), { hour: "2-digit", minute: "2-digit", day: "numeric", month: "numeric" })),
        el("td", {}, roomTitle(event, row.room)),
        el("td", { class: "num" }, fmtNumber(row.web)),
        el("td", { class: "num" }, fmtNumber(row.hubs)),
      ),
    );
  }
}

function renderBadge() {
  const state = loadedFor === null ? "connecting" : live.state === "stopped" ? "down" : live.state;
  badge.dataset.state = state;
  badge.textContent = t(`admin.stats.live.${state}`);
}

function render() {
  renderTimer = null;
  renderBadge();
  const event = selectedEvent();
  if (!event || event.slug !== loadedFor) return;
  const slugs = roomOrder(event);
  const series = seriesOf(slugs);
  renderTable(event, slugs, series);
  renderCharts(event, slugs, series);
  renderData(event, slugs, series);
}

function scheduleRender() {
  if (renderTimer === null) renderTimer = setTimeout(render, 100);
}

function parseCsv(textBody) {
  // minute,room,web,hubs: values are ISO times, slugs and numbers (no quoting needed).
  return textBody
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const [minute, room, web, hubs] = line.split(",");
      return { t: Date.parse(minute), room, web: Number(web), hubs: Number(hubs) };
    });
}

async function loadReport(slug) {
  reportAt = Date.now();
  const stats = await staff("GET", `/api/events/${encodeURIComponent(slug)}/attendance`);
  if (loadedFor !== slug) return;
  report = stats;
  seenPeaks = {};
}

export async function loadStats() {
  const event = selectedEvent();
  if (!event) return;
  const slug = event.slug;
  loadedFor = slug;
  errorBox.hidden = true;
  try {
    const [, csv] = await Promise.all([loadReport(slug), fetchBlob(`/api/events/${encodeURIComponent(slug)}/attendance-minutes.csv`).then((b) => b.text())]);
    if (loadedFor !== slug) return;
    samples = parseCsv(csv);
  } catch (err) {
    if (loadedFor !== slug) return;
    errorBox.textContent = errorText(err);
    errorBox.hidden = false;
  }
  render();
}

// A live frame: keep its counts for the running minute, note new web peaks, redraw soon.
// When the counts changed, the record's statistics (unique people, dwell time) are read
// again, at most every REPORT_EVERY_MS.
function onAttendance() {
  if (!mine()) return;
  const counts = JSON.stringify([live.online, live.rooms]);
  const changed = counts !== lastCounts;
  lastCounts = counts;
  const now = Date.now();
  const minute = {};
  for (const [slug, counts] of Object.entries(live.rooms)) {
    minute[slug] = { web: counts.web || 0, hubs: hubsOf(counts) };
    const seen = seenPeaks[slug];
    if ((counts.web || 0) > Math.max(seen?.n ?? 0, report?.stats[slug]?.peak ?? 0)) seenPeaks[slug] = { n: counts.web, at: now };
  }
  if (live.online > Math.max(seenPeaks[EVENT_KEY]?.n ?? 0, report?.stats[EVENT_KEY]?.peak ?? 0)) seenPeaks[EVENT_KEY] = { n: live.online, at: now };
  liveMinutes.set(minuteOf(now), minute);
  scheduleRender();
  if (changed && reportTimer === null && report) {
    const slug = loadedFor;
    reportTimer = setTimeout(() => {
      reportTimer = null;
      if (loadedFor === slug) loadReport(slug).then(scheduleRender, () => {});
    }, Math.max(0, reportAt + REPORT_EVERY_MS - now));
  }
}

export function resetStats() {
  report = null;
  samples = [];
  liveMinutes = new Map();
  seenPeaks = {};
  lastCounts = "";
  loadedFor = null;
  clearTimeout(reportTimer);
  reportTimer = null;
  clear(tbody);
  clear(dataBody);
  clear(charts);
  chartEmpty.hidden = true;
  renderBadge();
}

// Language switch: texts, numbers and times of the table and the charts again.
export function relabelStats() {
  render();
}

export function setupStats() {
  document.getElementById("stats-refresh").addEventListener("click", loadStats);
  dataBox.addEventListener("toggle", () => dataBox.open && render());
  onLive("attendance", onAttendance);
  onLive("state", scheduleRender);
  onSectionShown((name) => name === "attendance" && render());
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (Math.abs(window.innerWidth - width) > 40) scheduleRender();
    width = window.innerWidth;
  });
  // A new minute starts a new point even while no frame comes (nothing changed).
  setInterval(() => mine() && onAttendance(), 15000);
  renderBadge();
}
