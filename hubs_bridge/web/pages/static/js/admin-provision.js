// Provisioning an event's rooms on the Hubs server: start the job, poll its status every
// second while it runs, show a <progress> with a text equivalent and a per-room table.

import { clear, el, errorText, httpUrl, t } from "./common.js";
import { selectedEvent, reloadEvents, staff } from "./admin-state.js";

const button = document.getElementById("provision-start");
const errorBox = document.getElementById("provision-error");
const statusBox = document.getElementById("provision-status");
const progress = document.getElementById("provision-progress");
const text = document.getElementById("provision-text");
const tbody = document.querySelector("#provision-results tbody");
let timer = null;
let last = null; // the last status shown, re-rendered on a language change
let generation = 0; // a start for another event (or a stop) makes older answers stale

export function stopProvision() {
  generation += 1;
  clearTimeout(timer);
  timer = null;
  last = null;
  statusBox.hidden = true;
  errorBox.hidden = true;
  button.disabled = false;
}

function showError(err) {
  errorBox.textContent = errorText(err);
  errorBox.hidden = false;
}

// Old and new answers alike: a job status, or plain {event, rooms} results.
function normalise(status) {
  const rooms = status.rooms || [];
  const total = status.total ?? rooms.length;
  return {
    state: status.state || "done",
    total,
    done: status.done ?? rooms.length,
    rooms,
    message: status.message || null,
  };
}

// The Hubs server's room URL becomes a link only if it is http(s) (never javascript:).
function roomLink(room) {
  if (!room.url) return "";
  const href = httpUrl(room.url);
  const label = room.hub_id || room.url;
  if (!href) return el("span", {}, label);
  return el("a", { href, target: "_blank", rel: "noopener", "aria-label": t("admin.provision.open_room", { room: room.room }) }, label);
}

export function renderStatus(status = last) {
  if (!status) return;
  last = status;
  const s = normalise(status);
  statusBox.hidden = false;
  progress.max = Math.max(1, s.total);
  progress.value = Math.min(s.done, progress.max);
  const count = t("admin.provision.count", { done: s.done, total: s.total });
  const summary = s.state === "running" ? t("admin.provision.running") : s.state === "failed" ? t("admin.provision.failed") : t("admin.provision.done");
  progress.setAttribute("aria-valuetext", count);
  // The server's own summary is English and says what the count says; shown only when the
  // job failed as a whole (e.g. the process running it stopped), where it is the reason.
  const reason = s.state === "failed" && s.message ? ` (${s.message})` : "";
  text.textContent = `${count}. ${summary}${reason}`;
  clear(tbody);
  for (const room of s.rooms) {
    const stateKey = `admin.provision.state.${room.state}`;
    const badge = room.state === "failed" ? "badge-danger" : room.state === "created" ? "badge-ok" : "badge-info";
    tbody.append(
      el(
        "tr",
        { dataset: { room: room.room } },
        el("td", {}, room.room),
        el("td", {}, el("span", { class: `badge ${badge}` }, t(stateKey) === stateKey ? room.state : t(stateKey))),
        // The state column says it in the page's language; the server's (English) message
        // matters only when a room failed: it names the cause (unreachable, refused...).
        el("td", { class: "user-text" }, room.state === "failed" ? room.message || "" : ""),
        el("td", {}, roomLink(room)),
      ),
    );
  }
}

async function poll(slug, gen) {
  if (gen !== generation) return;
  try {
    const status = await staff("GET", `/api/events/${encodeURIComponent(slug)}/provision`);
    if (gen !== generation) return;
    renderStatus(status);
    if (status.state === "running") {
      timer = setTimeout(() => poll(slug, gen), 1000);
      return;
    }
    await reloadEvents();
  } catch (err) {
    if (gen !== generation) return;
    if (err.status === 404 || err.status === 405) {
      // No status route (yet): what the start answered is all there is.
      text.textContent = `${text.textContent} ${t("admin.provision.no_status")}`;
    } else {
      showError(err);
    }
  }
  if (gen === generation) button.disabled = false;
}

async function start() {
  const event = selectedEvent();
  if (!event) return;
  stopProvision();
  const gen = generation;
  button.disabled = true;
  try {
    const status = await staff("POST", `/api/events/${encodeURIComponent(event.slug)}/provision`);
    // Another event was opened meanwhile: this answer is not for the panel shown now.
    if (gen !== generation) return;
    renderStatus(status);
    if (status && status.state === "running") {
      timer = setTimeout(() => poll(event.slug, gen), 1000);
      return;
    }
    await reloadEvents();
  } catch (err) {
    if (gen !== generation) return;
    showError(err);
  }
  if (gen === generation) button.disabled = false;
}

export function setupProvision() {
  button.addEventListener("click", start);
}
