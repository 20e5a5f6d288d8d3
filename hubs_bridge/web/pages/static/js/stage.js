// The stage view /stage/{event}/{room}: the open poll of the room (stage-polls.js), else
// the pinned question of the room (or, when the room has none, the one pinned for the
// whole event) in large type for a projector.
// Read-only: it connects without a room (it counts in no room) and sends no Q&A frames.

import { connectionIndicator, el, fmtTime, icon, lang, localized, motionAllowed, onLangChange, page, setLang, t } from "./common.js";
import { Live } from "./live.js";
import { applyStagePollFrame, renderStagePoll, resetStagePoll, setStagePolls, stagePoll } from "./stage-polls.js";

const $ = (id) => document.getElementById(id);
let event = null;
let questions = new Map();
let shown = null; // [id, text] on screen, so the live region speaks only when it changes
let onStage = null; // the id of the poll on stage

// Longer texts get smaller type (classes, since the CSP forbids inline styles).
export function sizeClass(text) {
  const n = [...text].length;
  if (n <= 60) return "len-s";
  if (n <= 140) return "len-m";
  if (n <= 300) return "len-l";
  if (n <= 700) return "len-xl";
  return "len-xxl";
}

// The room's pinned question, else the event's (asked to the whole event), else null.
export function pinnedFor(all, room) {
  const pinned = [...all].filter((q) => q.pinned && q.status === "approved" && !q.hidden);
  return pinned.find((q) => q.room === room) || pinned.find((q) => q.room === null) || null;
}

function render() {
  if (event) {
    $("stage-event").textContent = localized(event, "title");
    const room = event.rooms.find((r) => r.slug === page.room);
    $("stage-room").textContent = room ? localized(room, "title") : t("stage.room.gone");
  }
  const q = pinnedFor(questions.values(), page.room);
  const poll = stagePoll(page.room);
  onStage = poll ? poll.poll.id : null;
  renderStagePoll(poll);
  const box = $("pinned");
  box.hidden = Boolean(poll); // a poll takes the stage while it runs (and a while after)
  const text = $("pinned-text");
  box.dataset.state = q ? "pinned" : "empty";
  $("join").dataset.size = q || poll ? "small" : "large";
  const joinKey = poll && poll.poll.state === "open" ? "polls.stage.join" : "stage.join.title";
  if ($("join-title").dataset.i18n !== joinKey) {
    $("join-title").dataset.i18n = joinKey;
    $("join-title").textContent = t(joinKey);
  }
  $("pinned-empty-help").hidden = Boolean(q);
  $("pinned-meta").hidden = !q;
  const answer = $("pinned-answer");
  if (!q) {
    if (shown !== null || text.textContent !== t("stage.empty")) text.textContent = t("stage.empty");
    text.className = "stage-text user-text empty";
    shown = null;
    $("pinned-badges").replaceChildren();
    $("pinned-votes").textContent = "";
    $("pinned-votes-label").textContent = "";
    answer.hidden = true;
    answer.replaceChildren();
    return;
  }
  if (!shown || shown[0] !== q.id || shown[1] !== q.text) {
    const fresh = !shown || shown[0] !== q.id;
    text.textContent = q.text;
    shown = [q.id, q.text];
    // A newly pinned question rises into place (not with reduced motion).
    if (fresh && motionAllowed()) {
      text.animate([{ opacity: 0, transform: "translateY(0.75em)" }, { opacity: 1, transform: "none" }], { duration: 420, easing: "cubic-bezier(0.2, 0.8, 0.2, 1)" });
    }
  }
  text.className = `stage-text user-text ${sizeClass(q.text)}`;
  const badges = [];
  if (q.room === null && page.room) badges.push(el("span", { class: "stage-badge" }, icon("globe"), t("stage.scope.event")));
  if (q.answered) {
    badges.push(el("span", { class: "stage-badge stage-badge-ok" }, icon("check"), t(q.answered === "written" ? "stage.answered.written" : "stage.answered.live")));
  }
  $("pinned-badges").replaceChildren(...badges);
  $("pinned-votes").textContent = String(q.votes);
  $("pinned-votes-label").textContent = q.votes === 1 ? t("stage.vote") : t("stage.votes");
  $("pinned-authors").textContent = q.authors && q.authors.length ? `· ${q.authors.join(", ")}` : `· ${t("stage.anonymous")}`;
  answer.hidden = !q.answer;
  answer.replaceChildren(...(q.answer ? [el("strong", {}, t("stage.answer")), " ", q.answer] : []));
}

function onWelcome(snapshot, info) {
  event = snapshot.event;
  if (!info.recovered) questions = new Map(snapshot.qa.questions.map((q) => [q.id, q]));
  setStagePolls(snapshot.polls, info.recovered);
  render();
}

function onFrame(frame) {
  if (frame.type === "question") {
    const q = frame.question;
    if (q.hidden) questions.delete(q.id);
    else {
      const before = questions.get(q.id);
      if (before && before.version > q.version) return;
      questions.set(q.id, q);
    }
    render();
  } else if (frame.type === "votes") {
    const counts = frame.counts || (frame.question !== undefined ? { [frame.question]: frame.votes } : {});
    for (const [id, votes] of Object.entries(counts)) {
      const q = questions.get(id);
      if (q) q.votes = votes;
    }
    render();
  } else if (frame.type === "event") {
    event = frame.event;
    render();
  } else if (frame.type === "poll" || frame.type === "poll_results") {
    applyStagePollFrame(frame);
    render();
  }
}

let fatal = null;

function renderFatal() {
  const box = $("fatal");
  box.hidden = !fatal;
  box.textContent = !fatal ? "" : fatal === "unknown_event" ? t("common.conn.gone") : t("common.conn.too_many");
}

// Live never reconnects after these (its state is "stopped": no "we reconnect" banner).
function onFatal(code) {
  if (code === "bad_token") return;
  fatal = code;
  renderFatal();
}

function tick() {
  const now = new Date().toISOString();
  const clock = $("clock");
  clock.dateTime = now;
  clock.textContent = fmtTime(now);
}

const live = new Live({ event: page.event, room: null, outbox: false, onWelcome, onFrame, onState: connectionIndicator(), onFatal });
window.__hbLive = live; // for the browser tests
onLangChange(() => {
  shown = null;
  resetStagePoll();
  render();
  renderFatal();
  tick();
});
tick();
setInterval(() => {
  tick();
  // A closed poll leaves the stage after a while: by the clock, no frame says so.
  const poll = stagePoll(page.room);
  if ((poll ? poll.poll.id : null) !== onStage) render();
}, 1000);
live.start();

// No language button on a projector: the key L switches (from the laptop that shows it).
document.addEventListener("keydown", (e) => {
  if ((e.key === "l" || e.key === "L") && !e.ctrlKey && !e.metaKey && !e.altKey) setLang(lang() === "de" ? "en" : "de");
});
