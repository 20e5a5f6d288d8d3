// Attendance of the chosen event: statistics per room, the chart drawn on the server
// (fetched with the token, shown as a data: image), its numbers as a table, and downloads.

import { announce, clear, el, errorText, fmtDateTime, fmtNumber, fmtTime, lang, localized, t } from "./common.js";
import { fetchBlob, selectedEvent, staff } from "./admin-state.js";

const EVENT_KEY = "_event";
const tbody = document.querySelector("#stats-table tbody");
const errorBox = document.getElementById("stats-error");
const chart = document.getElementById("chart");
const dataBody = document.querySelector("#chart-table tbody");
const downloadError = document.getElementById("download-error");
let report = null;
let minutes = [];
let loadedFor = null;
let chartGeneration = 0; // the latest chart request; older answers (another event) are dropped

function roomTitle(event, slug) {
  if (slug === EVENT_KEY) return t("admin.stats.event_page");
  const room = event.rooms.find((r) => r.slug === slug);
  return room ? localized(room, "title") : slug;
}

function dwell(seconds) {
  return seconds == null ? t("admin.stats.none") : t("admin.stats.minutes", { n: fmtNumber(Math.round((seconds / 60) * 10) / 10) });
}

function renderStats() {
  const event = selectedEvent();
  clear(tbody);
  if (!event || !report) return;
  const order = [EVENT_KEY, ...event.rooms.map((r) => r.slug)];
  const keys = Object.keys(report.stats).sort((a, b) => (order.indexOf(a) + 1 || 999) - (order.indexOf(b) + 1 || 999));
  for (const key of keys) {
    const s = report.stats[key];
    tbody.append(
      el(
        "tr",
        { dataset: { room: key } },
        el("th", { scope: "row" }, roomTitle(event, key)),
        el("td", { class: "num" }, fmtNumber(s.current)),
        el("td", { class: "num" }, fmtNumber(s.peak)),
        el("td", {}, s.peak_at ? fmtDateTime(s.peak_at, { dateStyle: "short", timeStyle: "short" }) : t("admin.stats.none")),
        el("td", { class: "num" }, fmtNumber(s.unique_visitors)),
        el("td", { class: "num" }, dwell(s.dwell_median_s)),
        el("td", { class: "num" }, dwell(s.dwell_mean_s)),
      ),
    );
  }
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
      return { minute, room, web: Number(web), hubs: Number(hubs) };
    });
}

function renderTable() {
  const event = selectedEvent();
  clear(dataBody);
  document.getElementById("chart-data-empty").hidden = minutes.length > 0;
  if (!event) return;
  for (const row of minutes) {
    dataBody.append(
      el("tr", {}, el("td", {}, fmtTime(row.minute)), el("td", {}, roomTitle(event, row.room)), el("td", { class: "num" }, fmtNumber(row.web)), el("td", { class: "num" }, fmtNumber(row.hubs))),
    );
  }
}

function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

// Still the chart wanted now: the newest request, and its event still shown.
function current(slug, gen) {
  return gen === chartGeneration && loadedFor === slug && selectedEvent()?.slug === slug;
}

async function loadChart(slug) {
  const gen = ++chartGeneration;
  chart.alt = t("admin.chart.loading");
  try {
    const blob = await fetchBlob(`/api/events/${encodeURIComponent(slug)}/attendance.svg?lang=${lang()}`);
    const svgText = await blob.text();
    // The alt text is the chart's own description (parsed as XML, never inserted as markup).
    const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const desc = doc.querySelector("desc")?.textContent || "";
    // CSP allows images from this origin and data: only, so not a blob: URL.
    const src = await readAsDataUrl(new Blob([svgText], { type: "image/svg+xml" }));
    if (!current(slug, gen)) return;
    chart.src = src;
    chart.alt = t("admin.chart.alt", { desc });
  } catch (err) {
    if (!current(slug, gen)) return;
    chart.removeAttribute("src");
    chart.alt = t("admin.chart.failed");
    errorBox.textContent = `${t("admin.chart.failed")} ${errorText(err)}`;
    errorBox.hidden = false;
  }
}

export async function loadStats() {
  const event = selectedEvent();
  if (!event) return;
  const slug = event.slug;
  loadedFor = slug;
  errorBox.hidden = true;
  const path = `/api/events/${encodeURIComponent(slug)}`;
  try {
    const [stats, csv] = await Promise.all([staff("GET", `${path}/attendance`), fetchBlob(`${path}/attendance-minutes.csv`).then((b) => b.text())]);
    if (loadedFor !== slug) return;
    report = stats;
    minutes = parseCsv(csv);
    renderStats();
    renderTable();
  } catch (err) {
    if (loadedFor !== slug) return;
    errorBox.textContent = errorText(err);
    errorBox.hidden = false;
  }
  if (loadedFor === slug) await loadChart(slug);
}

export function resetStats() {
  report = null;
  minutes = [];
  loadedFor = null;
  chartGeneration += 1;
  clear(tbody);
  clear(dataBody);
  chart.removeAttribute("src");
}

// Language switch: re-render the tables, redraw the chart with labels in the new language.
export function relabelStats() {
  renderStats();
  renderTable();
  const event = selectedEvent();
  if (event && loadedFor === event.slug) loadChart(event.slug);
}

async function download(button) {
  const event = selectedEvent();
  if (!event) return;
  const file = button.dataset.download;
  downloadError.hidden = true;
  try {
    const blob = await fetchBlob(`/api/events/${encodeURIComponent(event.slug)}/${file}`);
    const url = URL.createObjectURL(blob);
    const name = `${event.slug}-${file}`; // as the server names it
    const link = el("a", { href: url, download: name, class: "visually-hidden" }, name);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(t("admin.downloads.started", { file: name }));
  } catch (err) {
    downloadError.textContent = errorText(err);
    downloadError.hidden = false;
  }
}

export function setupStats() {
  document.getElementById("stats-refresh").addEventListener("click", loadStats);
  for (const button of document.querySelectorAll("[data-download]")) button.addEventListener("click", () => download(button));
}
