// The event's Hubs rooms and twins with the bridge's state in each (GET /api/events/{e}/hubs),
// refreshed every 5 seconds while the event is shown: a room the Hubs server refused
// (closed, not found, denied) is not retried by the bridge, so staff must see it.

import { clear, el, errorText, fmtTime, httpUrl, t } from "./common.js";
import { staff } from "./admin-state.js";

const REFRESH_MS = 5000;
const tbody = document.querySelector("#hubs-rooms tbody");
const empty = document.getElementById("hubs-rooms-empty");
const errorBox = document.getElementById("hubs-rooms-error");
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

export function renderHubs(data = last) {
  if (!data) return;
  last = data;
  clear(tbody);
  empty.hidden = data.rooms.length > 0;
  for (const room of data.rooms) {
    const state = room.closed ? "closed" : room.bridge;
    const detail = room.bridge === "failed" ? t("admin.hubs.reason", { reason: room.reason || "?" }) : room.since ? t("admin.hubs.since", { time: fmtTime(room.since) }) : "";
    tbody.append(
      el(
        "tr",
        { dataset: { room: room.room, hub: room.hub_id, bridge: state } },
        el("td", {}, room.room),
        el("td", {}, t(`admin.hubs.kind.${room.kind}`)),
        el("td", {}, el("span", { class: `badge ${room.closed ? "badge-info" : BADGES[room.bridge] || "badge-info"}` }, t(`admin.hubs.state.${state}`))),
        el("td", { class: "user-text" }, detail),
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
}
