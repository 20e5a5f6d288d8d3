// The event's Hubs rooms and twins with the bridge's state in each (GET /api/events/{e}/hubs),
// refreshed every 5 seconds while the event is shown: a room the Hubs server refused
// (closed, not found, denied) is not retried by the bridge, so staff must see it.

import { clear, el, errorText, fmtTime, httpUrl, t } from "./common.js";
import { staff } from "./admin-state.js";

const REFRESH_MS = 5000;
const tbody = document.querySelector("#hubs-rooms tbody");
const empty = document.getElementById("hubs-rooms-empty");
const errorBox = document.getElementById("hubs-rooms-error");
const closeBox = document.getElementById("hubs-close-box");
const closeResult = document.getElementById("hubs-close-result");
let shown = null; // slug of the event shown
let last = null;
let timer = null;
let generation = 0; // one polling loop: a new showHubs or stopHubs ends the old one

const BADGES = { joined: "badge-ok", joining: "badge-info", stale: "badge-warn", failed: "badge-danger", not_bridged: "badge-info" };

// The Hubs server's room URL as a link only if it is http(s) (never a javascript: link).
function linkTo(url, label) {
  const href = httpUrl(url);
  return href ? el("a", { href, target: "_blank", rel: "noopener" }, label) : el("span", {}, label);
}

const WHY = ["not_joined", "no_account", "account_refused", "not_owner"];

function whyNot(room) {
  return WHY.includes(room.why_not_code) ? t(`admin.hubs.why.${room.why_not_code}`) : room.why_not;
}

// What the bridge may do in the room (join, close, moderate, settings) and why not.
function mayCell(room) {
  if (room.closed) return el("td", {}, "");
  const may = [];
  if (room.bridge === "joined" || room.bridge === "stale") may.push(t("admin.hubs.may.join"));
  if (room.may_close) may.push(t("admin.hubs.may.close"));
  if (room.may_moderate) may.push(t("admin.hubs.may.moderate"));
  if (room.may_change_settings) may.push(t("admin.hubs.may.settings"));
  return el(
    "td",
    { class: "user-text" },
    el("span", {}, may.length ? may.join(", ") : t("admin.hubs.may.nothing")),
    room.why_not ? el("div", { class: "muted" }, t("admin.hubs.why_not", { reason: whyNot(room) })) : null,
  );
}

function detailOf(room) {
  const parts = [];
  if (room.bridge === "failed") parts.push(t("admin.hubs.reason", { reason: room.reason || "?" }));
  else if (room.since) parts.push(t("admin.hubs.since", { time: fmtTime(room.since) }));
  if (room.scene === "hubs_scene") parts.push(t("admin.hubs.scene.hubs_scene"));
  if (room.close_refused) parts.push(t("admin.hubs.close_refused", { reason: room.close_refused }));
  return parts.join(" · ");
}

export function renderHubs(data = last) {
  if (!data) return;
  last = data;
  clear(tbody);
  empty.hidden = data.rooms.length > 0;
  closeBox.hidden = !(data.phase === "ended" && data.rooms.some((r) => r.close_refused));
  for (const room of data.rooms) {
    const state = room.closed ? "closed" : room.bridge;
    const detail = detailOf(room);
    tbody.append(
      el(
        "tr",
        { dataset: { room: room.room, hub: room.hub_id, bridge: state } },
        el("td", {}, room.room),
        el("td", {}, t(`admin.hubs.kind.${room.kind}`)),
        el("td", {}, el("span", { class: `badge ${room.closed ? "badge-info" : BADGES[room.bridge] || "badge-info"}` }, t(`admin.hubs.state.${state}`))),
        el("td", { class: "user-text" }, detail),
        mayCell(room),
        el("td", {}, linkTo(room.url, room.hub_id)),
      ),
    );
  }
}

async function refresh(slug, gen) {
  if (gen !== generation) return;
  try {
    const data = await staff("GET", `/api/events/${encodeURIComponent(slug)}/hubs`);
    if (gen !== generation) return;
    errorBox.hidden = true;
    renderHubs(data);
  } catch (err) {
    if (gen !== generation) return;
    errorBox.textContent = errorText(err);
    errorBox.hidden = false;
  }
  timer = setTimeout(() => refresh(slug, gen), REFRESH_MS);
}

async function retryClose() {
  const slug = shown;
  if (!slug) return;
  closeResult.textContent = "";
  try {
    const outcome = await staff("POST", `/api/events/${encodeURIComponent(slug)}/hubs/close`);
    const n = Object.keys(outcome.refused || {}).length;
    closeResult.textContent = n ? t("admin.hubs.close_still", { n }) : t("admin.hubs.close_done");
  } catch (err) {
    closeResult.textContent = errorText(err);
  }
}

document.getElementById("hubs-close-retry").addEventListener("click", retryClose);

export function showHubs(slug) {
  stopHubs();
  shown = slug;
  refresh(slug, generation);
}

export function stopHubs() {
  generation += 1;
  clearTimeout(timer);
  timer = null;
  shown = null;
  last = null;
  clear(tbody);
  empty.hidden = true;
  errorBox.hidden = true;
  closeBox.hidden = true;
  closeResult.textContent = "";
}
