// The side of the console: announcements, live attendance per room, raised hands in
// Hubs (polled), and the links to copy (visitor page, stage views).

import { announce, api, copyText, el, errorText, fmtNumber, fmtTime, t, tn } from "./common.js";
import { connected, onRender, render, roomTitle, rooms, state } from "./moderator-state.js";

const $ = (id) => document.getElementById(id);
const HANDS_MS = 3000;

// ---- announce ----

function renderAnnounceRooms() {
  const box = $("announce-rooms");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren(
    ...rooms().map((room) =>
      el(
        "label",
        { class: "checkbox" },
        el("input", { type: "checkbox", name: "announce-room", value: room.slug, checked: checked.has(room.slug) }),
        roomTitle(room.slug),
      ),
    ),
  );
}

function renderAnnouncements() {
  const list = $("announcements");
  const items = [...state.announcements].reverse();
  if (!items.length) {
    list.replaceChildren(el("li", { class: "muted" }, t("moderator.announce.none")));
    return;
  }
  list.replaceChildren(
    ...items.map((a) =>
      el(
        "li",
        { class: "announcement", dataset: { id: a.id } },
        el("p", { class: "announcement-text user-text" }, a.text),
        el(
          "p",
          { class: "muted announcement-meta" },
          a.rooms && a.rooms.length ? a.rooms.map(roomTitle).join(", ") : t("moderator.room.event"),
          " · ",
          el("time", { datetime: a.at }, fmtTime(a.at)),
        ),
      ),
    ),
  );
}

export function addAnnouncement(a) {
  if (state.announcements.some((known) => known.id === a.id)) return;
  state.announcements.push(a);
  state.announcements = state.announcements.slice(-10);
}

// While the connection is down nothing is sent (an announcement queued blindly could go
// out twice): the send and undo buttons say so, and pressing them does nothing.
export function renderConnection() {
  const online = connected();
  for (const id of ["announce-submit", "undo"]) {
    if (online) $(id).removeAttribute("aria-disabled");
    else $(id).setAttribute("aria-disabled", "true");
  }
}

async function submitAnnouncement(event) {
  event.preventDefault();
  if (!connected()) return;
  const field = $("announce-text");
  const error = $("announce-error");
  error.textContent = "";
  if (!field.value.trim()) {
    error.textContent = t("common.error.text_empty");
    field.focus();
    return;
  }
  const chosen = [...document.querySelectorAll('input[name="announce-room"]:checked')].map((i) => i.value);
  const button = $("announce-submit");
  button.disabled = true;
  try {
    const ack = await state.live.announce(field.value, chosen.length ? chosen : null);
    if (ack && ack.announcement) addAnnouncement(ack.announcement);
    field.value = "";
    for (const box of document.querySelectorAll('input[name="announce-room"]')) box.checked = false;
    render("announcements");
    announce(t("moderator.announce.sent"));
  } catch (err) {
    error.textContent = errorText(err);
    field.focus();
  } finally {
    button.disabled = false;
  }
}

// ---- attendance ----

const COLUMNS = ["web", "hubs_room", "hubs_lobby", "hubs_entering", "desktop", "mobile", "vr", "hands"];

export function applyAttendance(frame) {
  const current = state.attendance.rooms;
  const next = frame.full ? {} : { ...current };
  Object.assign(next, frame.rooms || {});
  for (const slug of frame.removed || []) delete next[slug];
  state.attendance = { online: frame.online ?? state.attendance.online, rooms: next };
}

// One block per room (a wide table would not fit the side column or a phone).
function renderAttendance() {
  $("attendance-online").textContent = tn("moderator.attendance.online", state.attendance.online || 0);
  $("attendance").replaceChildren(
    ...rooms().map((room) => {
      const counts = state.attendance.rooms[room.slug] || {};
      return el(
        "div",
        { class: "attendance-room", dataset: { room: room.slug, stale: counts.stale ? "true" : "false" } },
        el(
          "h3",
          {},
          roomTitle(room.slug),
          counts.stale ? [" ", el("span", { class: "badge badge-warn", title: t("moderator.attendance.stale_help") }, t("moderator.attendance.stale"))] : null,
        ),
        el(
          "dl",
          { class: "attendance-counts" },
          COLUMNS.map((c) => el("div", {}, el("dt", {}, t(`moderator.attendance.${c}`)), el("dd", { dataset: { count: c } }, fmtNumber(counts[c] || 0)))),
        ),
      );
    }),
  );
}

// ---- raised hands ----

let hands = null; // null: unknown (endpoint missing or failing)
let handsTimer = null;

function renderHands() {
  const box = $("hands");
  if (hands === null) {
    box.replaceChildren(el("p", { class: "muted" }, el("span", { "aria-hidden": "true" }, "–"), el("span", { class: "visually-hidden" }, t("moderator.hands.unknown"))));
    return;
  }
  if (!hands.length) {
    box.replaceChildren(el("p", { class: "muted" }, t("moderator.hands.none")));
    return;
  }
  box.replaceChildren(
    el(
      "ul",
      { class: "list hands-list" },
      hands.map((h) =>
        el(
          "li",
          { class: "hand", dataset: { room: h.room } },
          el("strong", {}, h.name || t("moderator.hands.no_name")),
          " · ",
          roomTitle(h.room),
          " · ",
          t(`moderator.device.${["desktop", "mobile", "vr"].includes(h.device) ? h.device : "desktop"}`),
          " · ",
          t(`moderator.where.${["room", "lobby", "entering"].includes(h.where) ? h.where : "room"}`),
        ),
      ),
    ),
  );
}

let handsShown; // what the list shows, so an unchanged answer does not speak again

async function pollHands() {
  if (!state.token) return;
  let next;
  try {
    const data = await api("GET", `/api/events/${encodeURIComponent(state.event)}/hands`, { token: state.token });
    next = data && Array.isArray(data.hands) ? data.hands : null;
  } catch (_) {
    next = null; // not there (yet) or not answering: a quiet dash, and ask again
  }
  if (!state.token) return; // signed out meanwhile
  const key = JSON.stringify(next);
  hands = next;
  if (key === handsShown) return;
  handsShown = key;
  render("hands");
}

export function startHands() {
  stopHands();
  pollHands();
  handsTimer = setInterval(pollHands, HANDS_MS);
}

export function stopHands() {
  clearInterval(handsTimer);
  handsTimer = null;
  hands = null;
  handsShown = undefined;
}

// ---- links ----

function renderLinks() {
  const origin = location.origin;
  const event = encodeURIComponent(state.event);
  const links = [{ label: t("moderator.links.visitor"), url: `${origin}/e/${event}` }].concat(
    rooms().map((room) => ({ label: t("moderator.links.stage", { room: roomTitle(room.slug) }), url: `${origin}/stage/${event}/${encodeURIComponent(room.slug)}` })),
  );
  $("links").replaceChildren(
    ...links.map((link) =>
      el(
        "li",
        { class: "link-item" },
        el("span", { class: "link-label" }, link.label),
        el("a", { href: link.url, class: "link-url" }, link.url),
        el("button", { type: "button", class: "btn btn-small", dataset: { copy: link.url }, "aria-label": t("moderator.links.copy", { what: link.label }) }, t("common.copy")),
      ),
    ),
  );
}

export function setupSide() {
  onRender("event", () => {
    renderAnnounceRooms();
    renderLinks();
    renderAttendance();
  });
  onRender("announcements", renderAnnouncements);
  onRender("attendance", renderAttendance);
  onRender("hands", renderHands);
  $("announce-form").addEventListener("submit", submitAnnouncement);
  $("links").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) copyText(button.dataset.copy, button);
  });
}
