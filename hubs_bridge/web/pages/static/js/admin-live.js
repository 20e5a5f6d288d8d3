// The open event's live stream (/ws, docs/protocol.md) for the dashboard: attendance
// counts and the questions (a staff session sees all of them), kept here and handed to
// the parts that draw them. One connection, for the event shown; none while none is.
//
// The dashboard joins without a room, like the stage view: it counts once in the event's
// `online` (as every open page of the event does) and in no room.

import { Live } from "./live.js";
import { connectionIndicator } from "./common.js";

export const live = {
  event: null,
  state: "connecting", // "connecting" | "open" | "down" | "stopped"
  online: null, // null until the first welcome
  rooms: {}, // slug -> counts as the attendance frames give them
  questions: new Map(), // id -> question (moderator view)
};

let connection = null;
let indicator = null;
const listeners = { attendance: [], questions: [], state: [] };
let onFatal = () => {};

// `what`: "attendance", "questions" or "state".
export function onLive(what, callback) {
  listeners[what].push(callback);
}

function tell(what) {
  for (const callback of listeners[what]) callback(live);
}

function applyAttendance(frame) {
  const next = frame.full ? {} : { ...live.rooms };
  Object.assign(next, frame.rooms || {});
  for (const slug of frame.removed || []) delete next[slug];
  live.rooms = next;
  if (typeof frame.online === "number") live.online = frame.online;
}

function welcome(snapshot, info) {
  // Resumed: the missed frames follow, so keep what the page has.
  if (info.recovered) return;
  live.online = snapshot.attendance.online;
  live.rooms = { ...snapshot.attendance.rooms };
  live.questions = new Map(snapshot.qa.questions.map((q) => [q.id, q]));
  tell("attendance");
  tell("questions");
}

function frame(f) {
  if (f.type === "attendance") {
    applyAttendance(f);
    tell("attendance");
  } else if (f.type === "question") {
    live.questions.set(f.question.id, f.question);
    tell("questions");
  }
}

// The stream of `slug`, with the staff `token`; the one before (if any) is closed.
export function startLive(slug, token) {
  stopLive();
  live.event = slug;
  live.online = null;
  live.rooms = {};
  live.questions = new Map();
  indicator ||= connectionIndicator();
  document.getElementById("conn").hidden = false;
  const mine = new Live({
    event: slug,
    token,
    outbox: false, // never sends a visitor's waiting questions
    onWelcome: welcome,
    onFrame: frame,
    onState: (value) => {
      if (connection !== mine) return;
      live.state = value;
      indicator(value);
      tell("state");
    },
    onFatal: (code) => {
      if (connection !== mine) return;
      stopLive();
      onFatal(code);
    },
  });
  connection = mine;
  window.__hbLive = mine; // for the browser tests (cutting the socket on purpose)
  mine.start();
}

export function stopLive() {
  if (connection) connection.stop();
  connection = null;
  live.event = null;
  live.state = "connecting";
  live.online = null;
  live.rooms = {};
  live.questions = new Map();
  // A stopped stream is no outage: no indicator, no banner.
  if (indicator) indicator("open");
  document.getElementById("conn").hidden = true;
  tell("state");
}

// `callback(code)`: the stream ended for good ("bad_token", "unknown_event", ...).
export function setupLive({ fatal }) {
  onFatal = fatal;
}
