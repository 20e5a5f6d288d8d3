// The poll on stage: the newest open poll for this room (or for the whole event), large,
// with live bars (counts and percentages), the average of a rating or the word cloud.
//
// When it closes, its final result stays on stage for LINGER_MS (counted from when this
// page saw it close, or from its closed_at after a reload) or until another poll opens;
// then the stage goes back to the pinned question or the invitation. A poll whose results
// are hidden until it closes shows only how many have answered: the stage is public.

import { t } from "./common.js";
import { renderResults } from "./polls-view.js";

export const LINGER_MS = 2 * 60 * 1000;
const polls = new Map(); // id -> {poll, results, closedAt (ms, local clock)}
const $ = (id) => document.getElementById(id);
let shownQuestion = null; // [id, question] on screen: the live region speaks only on a change

export function setStagePolls(snapshot, recovered) {
  if (recovered) return;
  polls.clear();
  for (const { poll, results } of (snapshot && snapshot.polls) || []) {
    polls.set(poll.id, { poll, results, closedAt: poll.closed_at ? Date.parse(poll.closed_at) : null });
  }
}

// A `poll` or `poll_results` frame.
export function applyStagePollFrame(frame) {
  if (frame.type === "poll") {
    const poll = frame.poll;
    const known = polls.get(poll.id);
    if (poll.hidden) polls.delete(poll.id);
    else if (!known || !known.poll || known.poll.version <= poll.version) {
      const justClosed = poll.state === "closed" && (!known || !known.poll || known.poll.state !== "closed");
      const closedAt = justClosed ? Date.now() : known ? known.closedAt : null;
      polls.set(poll.id, { poll, results: known ? known.results : null, closedAt });
    }
  } else if (frame.type === "poll_results") {
    const known = polls.get(frame.results.poll);
    if (known) known.results = frame.results;
    else polls.set(frame.results.poll, { poll: null, results: frame.results, closedAt: null });
  }
}

// The poll this room's stage shows now, or null.
export function stagePoll(room, now = Date.now()) {
  const here = [...polls.values()].filter((e) => e.poll && (!e.poll.rooms || !e.poll.rooms.length || e.poll.rooms.includes(room)));
  const opened = (e) => Date.parse(e.poll.opened_at || 0) || 0;
  const open = here.filter((e) => e.poll.state === "open").sort((a, b) => opened(b) - opened(a));
  if (open.length) return open[0];
  const lingering = here
    .filter((e) => e.poll.state === "closed" && e.closedAt !== null && now - e.closedAt < LINGER_MS)
    .sort((a, b) => b.closedAt - a.closedAt);
  return lingering[0] || null;
}

export function renderStagePoll(entry) {
  const box = $("stage-poll");
  box.hidden = !entry;
  if (!entry) {
    shownQuestion = null;
    return;
  }
  const { poll, results } = entry;
  box.dataset.state = poll.state;
  box.dataset.kind = poll.kind;
  $("stage-poll-state").textContent = poll.state === "closed" ? t("polls.final") : t("polls.state.open");
  $("stage-poll-state").className = poll.state === "closed" ? "stage-badge" : "stage-badge stage-badge-ok";
  if (!shownQuestion || shownQuestion[0] !== poll.id || shownQuestion[1] !== poll.question) {
    $("stage-poll-question").textContent = poll.question;
    shownQuestion = [poll.id, poll.question];
  }
  renderResults($("stage-poll-results"), poll, results);
}

// The language changed: the question is said again, the results built again.
export function resetStagePoll() {
  shownQuestion = null;
  const results = $("stage-poll-results");
  if (results) delete results.dataset.key;
}
