// The event head of the visitor page: phase, schedule, rooms with live attendance,
// the "enter room" buttons and the "you are in room X" line.
//
// The phase is computed here from the event's times every second (no frame announces
// it), so the enter buttons open at the doors and close at the end by themselves.

import { el, fmtCountdown, fmtDateTime, fmtNumber, fmtTime, icon, localized, t } from "./common.js";

export function phaseOf(event, now = Date.now()) {
  const starts = Date.parse(event.starts_at);
  const doors = starts - (event.doors_open_minutes || 0) * 60000;
  if (now < doors) return "scheduled";
  if (now < Date.parse(event.ends_at)) return "open";
  return "ended";
}

export function doorsOpenAt(event) {
  return new Date(Date.parse(event.starts_at) - (event.doors_open_minutes || 0) * 60000).toISOString();
}

export function renderHead(state) {
  const event = state.event;
  document.getElementById("event-title").textContent = localized(event, "title");
  document.getElementById("event-description").textContent = localized(event, "description");
  const schedule = document.getElementById("schedule");
  const rows = [
    ["visitor.schedule.doors", doorsOpenAt(event)],
    ["visitor.schedule.starts", event.starts_at],
    ["visitor.schedule.ends", event.ends_at],
  ];
  // The day is written once, in the first row: later rows on that day show only the time.
  const day = (iso) => fmtDateTime(iso, { dateStyle: "full" });
  const firstDay = day(rows[0][1]);
  schedule.replaceChildren(
    ...rows.map(([key, iso], i) =>
      el(
        "div",
        { class: "schedule-row" },
        el("dt", {}, t(key)),
        el("dd", {}, el("time", { datetime: iso }, i > 0 && day(iso) === firstDay ? fmtTime(iso) : fmtDateTime(iso))),
      ),
    ),
  );
  document.title = `${localized(event, "title")} – ${t("visitor.title")}`;
  renderPhase(state);
}

// The phase line; called every second (the countdown ticks).
export function renderPhase(state) {
  const event = state.event;
  const phase = phaseOf(event);
  const box = document.getElementById("phase");
  box.dataset.phase = phase;
  let text;
  if (phase === "scheduled") {
    text = t("visitor.phase.scheduled_text", { time: fmtTime(doorsOpenAt(event)), countdown: fmtCountdown(doorsOpenAt(event)) });
  } else if (phase === "open") {
    text = t("visitor.phase.open_text", { time: fmtTime(event.ends_at) });
  } else {
    text = t("visitor.phase.ended_text");
  }
  box.replaceChildren(
    el("span", { class: `badge phase-badge phase-${phase}` }, phase === "open" ? el("span", { class: "live-dot", "aria-hidden": "true" }) : null, t(`common.phase.${phase}`)),
    " ",
    el("span", { class: "phase-text" }, text),
  );
  for (const node of document.querySelectorAll(".room-countdown")) {
    if (phase === "scheduled") node.textContent = t("visitor.room.opens_in", { countdown: fmtCountdown(doorsOpenAt(event)) });
    else if (phase === "ended") node.textContent = t("visitor.room.closed");
    else node.textContent = node.dataset.ready === "0" ? t("visitor.room.not_ready") : "";
  }
  return phase;
}

function count(counts, key) {
  return (counts && counts[key]) || 0;
}

// "im Raum": one number per room, everyone in the 3D room (or on the way in) plus the
// pages that entered it from here (docs/pages.md says why both).
export function peopleIn(counts) {
  return count(counts, "web") + count(counts, "hubs_room") + count(counts, "hubs_entering");
}

// The door of a room. It carries the page's visitor id (v=): /go counts only visitors
// with an open page as arriving (docs/hubs-bridge.md), so links shared elsewhere still
// lead in but cannot make a room look full or make overflow rooms.
export function goLink(state, room) {
  const path = `/go/${encodeURIComponent(state.event.slug)}/${encodeURIComponent(room.slug)}`;
  return state.visitor ? `${path}?v=${encodeURIComponent(state.visitor)}` : path;
}

function roomItem(state, room, phase, onEnter) {
  const title = localized(room, "title");
  const here = state.here === room.slug;
  const countdownId = `countdown-${room.slug}`;
  // A room without an open Hubs room yet (not provisioned, or closed) cannot be entered;
  // an event page without Hubs data (older servers) is treated as ready.
  const ready = room.hubs_ready !== false;
  let enter;
  if (phase === "open" && ready) {
    enter = el(
      "a",
      {
        class: "btn btn-primary room-enter",
        href: goLink(state, room),
        target: "_blank",
        rel: "noopener",
        "aria-label": t("visitor.room.enter_label", { room: title }),
      },
      icon("enter"),
      t("visitor.room.enter"),
    );
    enter.addEventListener("click", () => onEnter(room.slug));
  } else {
    enter = el("button", { type: "button", class: "btn room-enter", disabled: true, "aria-describedby": countdownId }, icon("enter"), t("visitor.room.enter"));
  }
  return el(
    "li",
    { class: here ? "room room-here" : "room", dataset: { room: room.slug } },
    el(
      "div",
      { class: "room-main" },
      el("h3", { class: "room-title" }, title, here ? el("span", { class: "badge badge-ok room-here-badge" }, t("visitor.room.here")) : null),
      el(
        "p",
        { class: "room-people" },
        icon("people", "icon-sm"),
        el("span", { class: "room-count" }, "0"),
        " ",
        el("span", { class: "room-count-label" }, t("visitor.room.people")),
        el("span", { class: "room-full badge badge-warn", hidden: true }, t("visitor.room.full")),
      ),
      el("p", { class: "room-stale field-help", hidden: true }, t("visitor.room.stale")),
      // Why the door is shut (a countdown, "ended", "not ready"); empty while it is open.
      el("p", { class: "room-note" }, el("span", { class: "room-countdown", id: countdownId, dataset: { ready: ready ? "1" : "0" } })),
    ),
    el("p", { class: "room-actions" }, enter),
  );
}

// Counts in place (attendance frames come several times a second; focus stays put).
export function updateCounts(state) {
  for (const room of state.event.rooms) {
    const li = document.querySelector(`#rooms li.room[data-room="${CSS.escape(room.slug)}"]`);
    if (!li) continue;
    const counts = state.attendance[room.slug];
    const people = peopleIn(counts);
    const node = li.querySelector(".room-count");
    const text = fmtNumber(people);
    if (node.textContent !== text) node.textContent = text;
    // The web and Hubs parts, for whoever wants them (and the tests).
    node.dataset.web = String(count(counts, "web"));
    node.dataset.hubs = String(count(counts, "hubs_room") + count(counts, "hubs_entering"));
    li.querySelector(".room-full").hidden = count(counts, "hubs_room") + count(counts, "hubs_entering") < room.capacity;
    li.querySelector(".room-stale").hidden = !(counts && counts.stale);
  }
}

export function renderRooms(state, onEnter) {
  const phase = phaseOf(state.event);
  const list = document.getElementById("rooms");
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("li.room");
  const focusRoom = focused ? focused.dataset.room : null;
  list.replaceChildren(...state.event.rooms.map((room) => roomItem(state, room, phase, onEnter)));
  updateCounts(state);
  renderPhase(state);
  renderHere(state);
  if (focusRoom) {
    const again = list.querySelector(`li.room[data-room="${CSS.escape(focusRoom)}"] .room-enter`);
    if (again) again.focus();
  }
}

export function renderHere(state) {
  const box = document.getElementById("here");
  const room = state.here && state.event.rooms.find((r) => r.slug === state.here);
  box.hidden = !room;
  document.getElementById("here-text").textContent = room ? t("visitor.here.text", { room: localized(room, "title") }) : "";
}
