// The moderator console's state, shared by its modules, and the batched re-render.
//
// Frames and acks change `state`; `render(part)` then redraws that part on the next
// tick, once, however many frames came in (a vote storm must not redraw per vote), and
// leaves the other parts (and the focus in them) alone.

import { errorText, page, localized, t } from "./common.js";

export const state = {
  event: page.event,
  token: null,
  live: null,
  role: null,
  eventData: null, // snapshot.event
  questions: new Map(), // id -> question (moderator view)
  announcements: [], // oldest first
  attendance: { online: 0, rooms: {} },
  errors: new Map(), // question id -> error frame shown next to its actions (re-translated)
  selected: null, // id of the selected question (keyboard)
  filter: "all", // the queue's chosen tab (FILTERS in moderator-filters.js)
  search: "", // the queue's search text
  lastDeleted: null, // id of the last question deleted here (undo with z)
};

const renderers = new Map(); // part -> callback
const dirty = new Set();
let queued = null;

export function onRender(part, callback) {
  renderers.set(part, callback);
}

// Redraw `parts` ("queue", "attendance", "announcements", "hands", "event"; none: all) soon.
export function render(...parts) {
  for (const part of parts.length ? parts : renderers.keys()) dirty.add(part);
  if (queued !== null) return;
  queued = setTimeout(() => {
    queued = null;
    const parts = [...dirty];
    dirty.clear();
    for (const part of parts) {
      const callback = renderers.get(part);
      if (callback) callback();
    }
  }, 0);
}

export function rooms() {
  return (state.eventData && state.eventData.rooms) || [];
}

export function roomTitle(slug) {
  if (!slug) return t("moderator.room.event");
  const room = rooms().find((r) => r.slug === slug);
  return room ? localized(room, "title") : slug;
}

export const UNDO_MS = 10 * 60 * 1000;

export function canUndelete(q, now = Date.now()) {
  return Boolean(q.deleted_at) && now - new Date(q.deleted_at).getTime() < UNDO_MS;
}

// The parts of the queue, in the order "Alle" shows them.
export const SECTIONS = ["pending", "approved", "answered", "rejected", "deleted", "merged"];

// Which part of the queue a question belongs in.
export function sectionOf(q) {
  if (q.deleted_at) return "deleted";
  if (q.status === "merged") return "merged";
  if (q.status === "rejected") return "rejected";
  if (q.status === "pending") return "pending";
  if (q.answered) return "answered";
  return "approved";
}

export function upsert(question) {
  if (question.hidden) {
    state.questions.delete(question.id);
    return;
  }
  const known = state.questions.get(question.id);
  // An older copy (a stream frame after the ack of a later action) never wins.
  if (known && known.version > question.version) return;
  state.questions.set(question.id, question);
}

// Whether actions can be sent now (P5: no action is queued blindly while the page is offline).
export function connected() {
  return Boolean(state.live && state.live.connected);
}

// The text shown for a refused action (version conflicts get the console's own hint).
export function messageOf(err) {
  return err && err.code === "version_conflict" ? t("moderator.error.version_conflict") : errorText(err);
}
