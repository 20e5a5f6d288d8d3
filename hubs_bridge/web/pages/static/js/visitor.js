// The visitor event page /e/{event}: the Q&A first (the ask box, live polls, the
// questions), the rooms with live attendance as a second tab on a phone (side by side on
// a wide screen), entering a room (through /go, in a new tab), and the announcements.
// Everything live comes over /ws (live.js); people's text only becomes text nodes.

import { announce, connectionIndicator, el, errorText, fmtNumber, localized, onLangChange, page, selectTab, setupTabs, t } from "./common.js";
import { Live } from "./live.js";
import { phaseOf, renderHead, renderHere, renderPhase, renderRooms, updateCounts } from "./visitor-rooms.js";
import {
  refreshListError,
  renderOutbox,
  renderQuestions,
  renderTransparency,
  resetPaging,
  resetQuestions,
  showListError,
  showMore,
  watchListEnd,
} from "./visitor-questions.js";
import { clearSimilar, refreshSimilar, watchSimilar } from "./visitor-similar.js";
import { applyPollFrame, renderPolls, resetPolls, setPolls, setupPolls } from "./visitor-polls.js";

const NAME_KEY = "hb_name";

const state = {
  event: null,
  phase: null,
  attendance: {},
  questions: new Map(),
  voted: new Set(),
  voting: new Set(),
  rejected: {},
  announcements: [],
  dismissed: null,
  settings: { premoderation: false, max_question_chars: 500, allow_names: true },
  sort: "top",
  here: null,
  visitor: null, // the signed visitor id of the welcome; "Raum betreten" links carry it
  waitingFor: null, // the id of the own question "waiting for approval" is said of
  delayed: new Map(), // own questions over the rate limit: client_msg_id -> when they go again
};

const $ = (id) => document.getElementById(id);
const indicator = connectionIndicator();
let fatal = null;
// Messages on screen as functions, so the language switch renders them again.
const messages = {};

function say(id, render) {
  messages[id] = render || null;
  $(id).textContent = render ? render() : "";
}

const live = new Live({
  event: page.event,
  onWelcome,
  onFrame,
  onState(value) {
    indicator(value);
    showOutbox();
    renderPolls();
  },
  onFatal,
  onError(frame) {
    // Without a ref (frame rate, backend): Live sends the asks and votes again by itself.
    if (frame.code === "rate_limited" || frame.code === "unavailable") return;
    showListError(frame);
  },
  onOutbox(frames) {
    showOutbox(frames);
  },
  onOutboxRetry(frame, _err, retryAt) {
    state.delayed.set(frame.client_msg_id, retryAt);
    showOutbox();
    say("ask-status", () => t("visitor.ask.later"));
  },
  onOutboxError: restoreQuestion,
});
window.__hbLive = live; // for the browser tests (cutting the socket on purpose)

function store() {
  try {
    return window.localStorage;
  } catch (_) {
    return null;
  }
}

// --- state from the server -------------------------------------------------------

function onWelcome(snapshot, info) {
  if (info.visitor) state.visitor = info.visitor;
  state.event = snapshot.event;
  state.settings = snapshot.qa.settings;
  if (!info.recovered) {
    state.attendance = { ...snapshot.attendance.rooms };
    state.questions = new Map(snapshot.qa.questions.map((q) => [q.id, q]));
    state.voted = new Set(snapshot.qa.voted);
    state.rejected = snapshot.qa.rejected;
    state.announcements = snapshot.qa.announcements;
  }
  if (state.here && !state.event.rooms.some((r) => r.slug === state.here)) state.here = null;
  renderAll();
  setPolls(snapshot.polls, info.recovered);
}

function onFrame(frame) {
  switch (frame.type) {
    case "attendance":
      if (frame.full) state.attendance = {};
      for (const slug of frame.removed || []) delete state.attendance[slug];
      Object.assign(state.attendance, frame.rooms);
      return updateCounts(state);
    case "event":
      state.event = frame.event;
      state.settings = frame.event.qa;
      renderAll();
      return resetPolls(); // room titles may have changed
    case "question":
      return applyQuestion(frame.question, true);
    case "votes":
      return applyVotes(voteCounts(frame));
    case "announcement":
      state.announcements = [...state.announcements, frame.announcement].slice(-5);
      // Only an announcement this page shows brings the box back (not one for another room).
      if (!relevant(frame.announcement)) return;
      state.dismissed = null;
      return renderAnnouncement(true);
    case "transparency":
      state.rejected = frame.rejected;
      return renderTransparency(state);
    case "poll":
    case "poll_results":
      return applyPollFrame(frame);
    default:
      return;
  }
}

// `counts: {id: n}` (hubs_bridge/protocol.py); `question` + `votes` as docs/protocol.md has it.
export function voteCounts(frame) {
  if (frame.counts) return frame.counts;
  return frame.question !== undefined ? { [frame.question]: frame.votes } : {};
}

function applyVotes(counts) {
  let changed = false;
  for (const [id, votes] of Object.entries(counts)) {
    const q = state.questions.get(id);
    if (q && !state.voting.has(id) && q.votes !== votes) {
      q.votes = votes;
      changed = true;
    }
  }
  if (changed) renderQuestions(state, vote);
}

function applyQuestion(q, fromStream) {
  if (q.hidden) {
    state.questions.delete(q.id);
  } else {
    const before = state.questions.get(q.id);
    if (before && before.version > q.version) return;
    state.questions.set(q.id, q);
    if (!before && fromStream && q.status === "approved" && !q.mine) announce(t("visitor.q.new", { text: q.text }));
    if (q.id === state.waitingFor && q.status !== "pending") {
      // "Waiting for approval" no longer holds: say what became of it.
      state.waitingFor = null;
      say("ask-status", q.status === "approved" ? () => t("visitor.ask.approved") : null);
    }
  }
  renderQuestions(state, vote);
}

function onFatal(code) {
  if (code === "bad_token") return;
  fatal = code;
  say("fatal", () => (code === "unknown_event" ? t("common.conn.gone") : t("common.conn.too_many")));
  $("fatal").hidden = false;
  $("ask-submit").disabled = true;
}

// A question from the outbox that the server refused for good (also one typed before a
// reload): its text comes back into the field, so nothing typed is silently lost.
function showOutbox(frames = live.outbox()) {
  // Questions that are no longer waiting (sent, or refused for good) leave the countdowns.
  const waiting = new Set(frames.map((f) => f.client_msg_id));
  for (const id of state.delayed.keys()) if (!waiting.has(id)) state.delayed.delete(id);
  renderOutbox(frames, live.connected, state.delayed);
}

function restoreQuestion(frame, err) {
  const textarea = $("ask-text");
  const current = textarea.value.trim();
  if (!current.includes(frame.text)) textarea.value = current ? `${current}\n\n${frame.text}` : frame.text;
  renderCounter();
  say("ask-status", null);
  say("ask-error", () => errorText(err));
}

// --- rendering -------------------------------------------------------------------

function renderAll() {
  if (!state.event) return;
  renderHead(state);
  $("tab-rooms-count").textContent = fmtNumber(state.event.rooms.length);
  state.phase = phaseOf(state.event);
  renderRooms(state, enterRoom);
  renderForm();
  renderQuestions(state, vote);
  renderTransparency(state);
  renderAnnouncement(false);
  showOutbox();
}

function relevant(a) {
  return !a.rooms || a.rooms.length === 0 || (state.here !== null && a.rooms.includes(state.here));
}

let announcementTimer = null;

function renderAnnouncement(isNew) {
  const box = $("announcement");
  const latest = [...state.announcements].reverse().find(relevant);
  const show = latest && latest.id !== state.dismissed;
  const wasHidden = box.hidden;
  box.hidden = !show;
  const text = box.querySelector(".announcement-text");
  clearTimeout(announcementTimer);
  if (!show) {
    text.textContent = "";
    return;
  }
  if (isNew && wasHidden) {
    // The live region (the text only) was hidden: fill it a tick after it is shown, so
    // screen readers read the new text.
    text.textContent = "";
    announcementTimer = setTimeout(() => {
      text.textContent = latest.text;
    }, 50);
  } else if (isNew || text.textContent !== latest.text) text.textContent = latest.text;
}

function renderForm() {
  const max = state.settings.max_question_chars;
  $("ask-rules").textContent = t(state.settings.premoderation ? "visitor.ask.rules_premod" : "visitor.ask.rules_open", { max });
  $("ask-names").hidden = !state.settings.allow_names;
  $("ask-name").disabled = $("ask-anonymous").checked;
  const select = $("ask-room");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "" }, t("visitor.ask.room_event")),
    ...state.event.rooms.map((r) => el("option", { value: r.slug }, localized(r, "title"))),
  );
  select.value = state.event.rooms.some((r) => r.slug === chosen) ? chosen : "";
  renderCounter();
}

function codePoints(text) {
  return [...text].length;
}

function renderCounter() {
  const max = state.settings.max_question_chars;
  const n = codePoints($("ask-text").value.trim());
  const counter = $("ask-counter");
  counter.textContent = t("visitor.ask.counter", { n, max });
  counter.classList.toggle("over", n > max);
}

// --- actions ---------------------------------------------------------------------

function enterRoom(slug) {
  live.enter(slug);
  state.here = slug;
  const select = $("ask-room");
  if (!select.value) select.value = slug;
  renderRooms(state, enterRoom);
  renderAnnouncement(false);
}

function leaveRoom() {
  if (!state.here) return;
  const select = $("ask-room");
  if (select.value === state.here) select.value = "";
  live.leave(state.here);
  state.here = null;
  renderRooms(state, enterRoom);
  renderAnnouncement(false);
  announce(t("visitor.here.left"));
  // The rooms, where the visitor can go next: their heading, or their tab on a phone.
  const rooms = $("rooms-title");
  if (rooms.offsetParent !== null) rooms.focus();
  else $("tab-rooms").focus();
}

function vote(id) {
  const q = state.questions.get(id);
  if (!q || state.voting.has(id)) return;
  const up = !state.voted.has(id);
  const before = { votes: q.votes, voted: !up };
  // Shown at once; the ack brings the exact count.
  state.voting.add(id);
  if (up) state.voted.add(id);
  else state.voted.delete(id);
  q.votes = Math.max(0, q.votes + (up ? 1 : -1));
  showListError(null);
  renderQuestions(state, vote);
  live
    .vote(id, up)
    .then((ack) => {
      state.voting.delete(id);
      if (ack.voted) state.voted.add(id);
      else state.voted.delete(id);
      const current = state.questions.get(id);
      if (current) current.votes = ack.votes;
    })
    .catch((err) => {
      state.voting.delete(id);
      if (before.voted) state.voted.add(id);
      else state.voted.delete(id);
      const current = state.questions.get(id);
      if (current) current.votes = before.votes;
      showListError(err);
    })
    .finally(() => {
      renderQuestions(state, vote);
      refreshSimilar(state, vote);
    });
}

function submitQuestion(event) {
  event.preventDefault();
  if (fatal) return;
  const textarea = $("ask-text");
  const text = textarea.value.trim();
  const max = state.settings.max_question_chars;
  say("ask-error", null);
  if (!text) {
    say("ask-error", () => errorText({ code: "text_empty" }));
    textarea.focus();
    return;
  }
  if (codePoints(text) > max) {
    say("ask-error", () => errorText({ code: "text_too_long", max_chars: max }));
    textarea.focus();
    return;
  }
  const anonymous = state.settings.allow_names && $("ask-anonymous").checked;
  const name = state.settings.allow_names && !anonymous ? $("ask-name").value.trim() || null : null;
  const room = $("ask-room").value || null;
  say("ask-status", live.connected ? () => t("visitor.ask.sending") : () => t("visitor.ask.queued"));
  textarea.value = "";
  renderCounter();
  clearSimilar(state, vote);
  live
    .ask(text, { room, anonymous, name })
    .then((ack) => {
      if (ack.question) applyQuestion(ack.question, false);
      const pending = ack.question && ack.question.status === "pending";
      state.waitingFor = pending ? ack.question.id : null;
      say("ask-status", () => t(pending ? "visitor.ask.sent_pending" : "visitor.ask.sent"));
    })
    .catch(() => {
      // restoreQuestion (onOutboxError) has put the text back and shows the error.
    });
}

function setSort(sort) {
  if (state.sort === sort) return;
  state.sort = sort;
  const tab = $(sort === "top" ? "sort-top" : "sort-new");
  selectTab($("sort-tabs"), tab);
  $("questions-panel").setAttribute("aria-labelledby", tab.id);
  resetPaging();
  renderQuestions(state, vote);
}

// On a phone the Q&A and the rooms are tabs (CSS shows both side by side when wide).
function setView(view) {
  $("visitor-layout").dataset.view = view;
  selectTab($("view-tabs"), $(view === "rooms" ? "tab-rooms" : "tab-qa"));
}

function setup() {
  $("ask-form").addEventListener("submit", submitQuestion);
  $("ask-text").addEventListener("input", renderCounter);
  watchSimilar($("ask-text"), page.event, state, vote);
  setupTabs($("sort-tabs"), (tab) => setSort(tab.dataset.sort));
  setupTabs($("view-tabs"), (tab) => setView(tab.id === "tab-rooms" ? "rooms" : "qa"));
  $("questions-more").addEventListener("click", () => {
    // The first of the new questions gets the focus, so a keyboard goes on from there.
    const before = document.querySelectorAll("#questions li.question").length;
    if (!showMore(state, vote)) return;
    requestAnimationFrame(() => {
      const next = document.querySelectorAll("#questions li.question")[before];
      const target = next && (next.querySelector(".question-vote") || next);
      if (target) {
        if (!target.matches("button")) target.tabIndex = -1;
        target.focus();
      }
    });
  });
  watchListEnd(state, vote);
  $("here-leave").addEventListener("click", leaveRoom);
  $("rooms-title").tabIndex = -1;
  $("announcement-close").addEventListener("click", () => {
    const latest = [...state.announcements].reverse().find(relevant);
    if (latest) state.dismissed = latest.id;
    renderAnnouncement(false);
  });
  const nameField = $("ask-name");
  const saved = store() && store().getItem(NAME_KEY);
  if (saved) nameField.value = saved;
  nameField.addEventListener("input", () => {
    const s = store();
    if (!s) return;
    if (nameField.value.trim()) s.setItem(NAME_KEY, nameField.value.trim());
    else s.removeItem(NAME_KEY);
  });
  $("ask-anonymous").addEventListener("change", () => {
    nameField.disabled = $("ask-anonymous").checked;
  });
  onLangChange(() => {
    resetQuestions();
    renderAll();
    resetPolls();
    renderHere(state);
    for (const [id, render] of Object.entries(messages)) if (render) $(id).textContent = render();
    refreshListError();
    refreshSimilar(state, vote);
  });
  // The phase and the countdowns tick; the rooms change when the doors open or close.
  setInterval(() => {
    if (state.delayed.size) showOutbox();
    if (!state.event) return;
    const phase = renderPhase(state);
    if (phase !== state.phase) {
      state.phase = phase;
      renderRooms(state, enterRoom);
    }
  }, 1000);
  renderOutbox(live.outbox(), false);
  renderCounter();
  // The form is wired: it may be sent now (disabled in the HTML until this point, so that
  // an early click cannot make the browser send the question in the page's URL).
  $("ask-submit").disabled = false;
  setupPolls(live, () => state.event);
  live.start();
}

setup();
