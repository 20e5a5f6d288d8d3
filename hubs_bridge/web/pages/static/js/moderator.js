// The moderator console /m/{event}: sign in with a moderator or staff token (kept in
// sessionStorage, sent only in the websocket hello and API headers), then the queue,
// announcements, attendance, raised hands, links and polls, all live from /ws.

import { announce, connectionIndicator, localized, onLangChange, t, tokenStore } from "./common.js";
import { Live } from "./live.js";
import { resetActions, setupActions } from "./moderator-actions.js";
import { setupFilters } from "./moderator-filters.js";
import { renderQueue } from "./moderator-queue.js";
import { setupHubsPeople, startHubsPeople, stopHubsPeople } from "./moderator-hubs.js";
import { addAnnouncement, applyAttendance, renderConnection, setupSide, startHands, stopHands } from "./moderator-side.js";
import { onRender, render, state, upsert } from "./moderator-state.js";
import { applyModPollFrame, resetModPolls, setModPolls, setupModPolls } from "./moderator-polls.js";

const TOKEN_KIND = "moderator";
const $ = (id) => document.getElementById(id);
const indicator = connectionIndicator();

function showSignin(errorKey) {
  $("console").hidden = true;
  $("signin").hidden = false;
  $("signout").hidden = true;
  $("role-badge").hidden = true;
  delete $("signin-status").dataset.i18n;
  $("signin-status").textContent = "";
  $("signin-submit").disabled = false;
  const error = $("signin-error");
  error.textContent = errorKey ? t(errorKey) : "";
  error.dataset.key = errorKey || "";
  if (errorKey) $("signin-token").setAttribute("aria-invalid", "true");
  else $("signin-token").removeAttribute("aria-invalid");
}

function showConsole() {
  const first = $("console").hidden;
  $("signin").hidden = true;
  $("console").hidden = false;
  $("signout").hidden = false;
  $("role-badge").hidden = false;
  $("role-badge").textContent = t(`moderator.role.${state.role}`);
  $("signin-token").value = "";
  if (first) {
    startHands();
    startHubsPeople();
    $("main").focus();
  }
}

function stopLive() {
  if (state.live) state.live.stop();
  state.live = null;
  // A stopped connection is no outage: no indicator, no banner.
  indicator("open");
  $("conn").hidden = true;
  stopHands();
  stopHubsPeople();
  resetActions();
  state.token = null;
  state.role = null;
  state.questions = new Map();
  state.errors = new Map();
  state.selected = null;
  resetModPolls();
}

// Refused: forget the token and ask again, with the reason.
function refuse(errorKey) {
  stopLive();
  tokenStore.set(TOKEN_KIND, null);
  showSignin(errorKey);
  $("signin-token").focus();
}

function welcome(snapshot, info) {
  if (info.role !== "moderator" && info.role !== "staff") {
    refuse("common.signin.not_allowed");
    return;
  }
  tokenStore.set(TOKEN_KIND, state.token);
  state.role = info.role;
  state.eventData = snapshot.event;
  // Resumed: keep the page's own state, the missed frames follow (the snapshot may be
  // behind or ahead of them). Only a fresh start takes the snapshot's Q&A and attendance.
  if (!info.recovered) {
    state.questions = new Map();
    for (const q of snapshot.qa.questions) state.questions.set(q.id, q);
    state.announcements = [...snapshot.qa.announcements];
    state.attendance = { online: snapshot.attendance.online, rooms: { ...snapshot.attendance.rooms } };
  }
  setModPolls(snapshot.polls, info.recovered);
  showConsole();
  renderConnection();
  render();
}

function frame(f) {
  switch (f.type) {
    case "question":
      // A new waiting question is told by the queue (notePending in moderator-filters.js),
      // once per burst, with the count of "Offen".
      upsert(f.question);
      return render("queue");
    case "votes": {
      // `counts: {id: n}` as hubs_bridge/protocol.py sends it; `question` + `votes` as the doc has it.
      const counts = f.counts || (f.question !== undefined ? { [f.question]: f.votes } : {});
      for (const [id, votes] of Object.entries(counts)) {
        const q = state.questions.get(id);
        if (q) q.votes = votes;
      }
      return render("queue");
    }
    case "attendance":
      applyAttendance(f);
      return render("attendance");
    case "announcement":
      addAnnouncement(f.announcement);
      return render("announcements");
    case "event":
      state.eventData = f.event;
      return render();
    case "poll":
    case "poll_results":
      return applyModPollFrame(f);
    default:
      return undefined;
  }
}

function fatal(code) {
  if (code === "bad_token") return refuse("common.signin.bad_token");
  stopLive();
  showSignin(code === "unknown_event" ? "common.conn.gone" : "common.conn.too_many");
  return undefined;
}

function start(token) {
  stopLive();
  state.token = token;
  $("signin-status").dataset.i18n = "moderator.signin.checking";
  $("signin-status").textContent = t("moderator.signin.checking");
  $("signin-submit").disabled = true;
  const live = new Live({
    event: state.event,
    token,
    outbox: false, // a moderator's page never sends a visitor's waiting questions
    onWelcome: welcome,
    onFrame: frame,
    onState: (value) => {
      if (state.live !== live) return;
      indicator(value);
      // The action buttons follow the connection (P5: nothing is sent blindly).
      renderConnection();
      render("queue");
      // No server to check the token with: let the person try again (or another token).
      if (value === "down" && !state.role) $("signin-submit").disabled = false;
    },
    onFatal: fatal,
  });
  state.live = live;
  window.__hbLive = live; // for the browser tests (cutting the socket on purpose)
  $("conn").hidden = false;
  live.start();
}

function signOut() {
  stopLive();
  tokenStore.set(TOKEN_KIND, null);
  showSignin(null);
  announce(t("moderator.signed_out"));
  $("signin-token").focus();
}

function setup() {
  onRender("queue", renderQueue);
  setupFilters();
  setupActions();
  setupSide();
  setupHubsPeople();
  setupModPolls();
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("signin-token").value.trim();
    if (!token) {
      showSignin("moderator.signin.empty");
      $("signin-token").focus();
      return;
    }
    start(token);
  });
  $("signout").addEventListener("click", signOut);
  onLangChange(() => {
    const error = $("signin-error");
    if (error.dataset.key) error.textContent = t(error.dataset.key);
    if (state.role) $("role-badge").textContent = t(`moderator.role.${state.role}`);
    if (state.eventData) $("event-title").textContent = localized(state.eventData, "title");
    render();
  });
  onRender("title", () => {
    if (state.eventData) $("event-title").textContent = localized(state.eventData, "title");
  });
  // The undo of a delete runs out after 10 minutes: its button goes away by itself.
  setInterval(() => {
    if (state.role) render("queue");
  }, 30000);
  const saved = tokenStore.get(TOKEN_KIND);
  if (saved) start(saved);
  else showSignin(null);
}

setup();
