// The Q&A list of the visitor page: questions sorted by top or new (pinned first),
// votes as toggles, own pending and rejected questions marked, the transparency
// counts, and the outbox of questions waiting for the connection.
//
// Nodes are kept per question and rebuilt only when the question (or the language)
// changed, so a vote button keeps its focus while other questions update. Only the first
// `limit` questions are in the page (a page more as the visitor scrolls near the end, or
// with the button), so 1,000 questions cost what 20 do; a question that moves (a vote
// lifts it) glides to its new place (FLIP, Web Animations; none with reduced motion).

import { ICONS, el, errorText, fmtNumber, fmtTime, icon, lang, localized, motionAllowed, t, tn } from "./common.js";

const REASONS = ["off_topic", "duplicate", "offensive", "other"];
export const PAGE = 20;
const nodes = new Map(); // id -> {node, key, voteKey, votes}
const created = new WeakMap(); // question -> Date.parse(created_at), parsed once per version
let limit = PAGE;
let instantNext = true; // the first render and a new sort order jump, they do not glide
let grew = false; // the next render shows a page more: those questions are not new
let pending = null; // [state, onVote] of a render asked for and not done yet
let frame = 0;
let timer = 0;
let recheckEnd = () => {}; // watchListEnd's: is the end of the list still in reach?

function roomTitle(state, slug) {
  const room = state.event && state.event.rooms.find((r) => r.slug === slug);
  return room ? localized(room, "title") : slug;
}

function createdAt(q) {
  let at = created.get(q);
  if (at === undefined) {
    at = Date.parse(q.created_at);
    created.set(q, at);
  }
  return at;
}

export function sortedQuestions(state) {
  const byNew = (a, b) => createdAt(b) - createdAt(a);
  return [...state.questions.values()].sort(
    (a, b) => Number(b.pinned) - Number(a.pinned) || (state.sort === "top" ? b.votes - a.votes : 0) || byNew(a, b),
  );
}

function badges(state, q) {
  const out = [];
  if (q.pinned) out.push(el("span", { class: "badge badge-info question-pinned" }, icon("pin", "icon-sm"), t("visitor.q.pinned")));
  if (q.answered) {
    const key = q.answered === "written" ? "visitor.q.answered_written" : "visitor.q.answered_live";
    out.push(el("span", { class: "badge badge-ok question-answered", dataset: { mode: q.answered } }, icon("check", "icon-sm"), t(key)));
  }
  if (q.status === "pending") out.push(el("span", { class: "badge badge-warn question-pending" }, icon("clock", "icon-sm"), t("visitor.q.pending")));
  if (q.status === "rejected") {
    const reason = q.reject_reason ? t(`visitor.reason.${q.reject_reason}`) : t("visitor.reason.other");
    out.push(el("span", { class: "badge badge-danger question-rejected" }, t("visitor.q.rejected", { reason })));
  }
  if (q.mine) out.push(el("span", { class: "badge question-mine" }, t("visitor.q.mine")));
  return out;
}

function questionNode(state, q, onVote) {
  const who = q.authors && q.authors.length ? q.authors.join(", ") : t("visitor.q.anonymous");
  const meta = [who, el("time", { datetime: q.created_at }, fmtTime(q.created_at))];
  if (q.room) meta.push(t("visitor.q.room", { room: roomTitle(state, q.room) }));
  if (q.source === "hubs") meta.push(t("visitor.q.hubs"));
  let vote = null;
  if (q.status === "approved") {
    // The count is inside the button, so its name says what it does and where it stands:
    // "Unterstützen, 12 Stimmen"; the question it is for is its description. Its state
    // (count, pressed) is set by paintVote, in place, as votes come and go.
    vote = el(
      "button",
      {
        type: "button",
        class: "question-vote",
        "aria-pressed": "false",
        "aria-describedby": `q-text-${q.id}`,
      },
      el("span", { class: "visually-hidden" }, `${t("visitor.q.vote")}, `),
      icon("vote", "vote-icon"),
      el("span", { class: "question-votes" }),
      el("span", { class: "visually-hidden" }, " "),
      el("span", { class: "votes-label visually-hidden" }),
    );
    vote.addEventListener("click", () => onVote(q.id));
  }
  const classes = ["question"];
  if (q.pinned) classes.push("question-is-pinned");
  if (q.answered) classes.push("question-is-answered");
  return el(
    "li",
    { class: classes.join(" "), dataset: { id: q.id, status: q.status } },
    el(
      "div",
      { class: "question-body" },
      el("div", { class: "question-badges" }, badges(state, q)),
      el("p", { class: "question-text user-text", id: `q-text-${q.id}` }, q.text),
      q.answer ? el("p", { class: "question-answer user-text" }, el("strong", {}, t("visitor.q.answer")), " ", q.answer) : null,
      q.reply ? el("p", { class: "question-reply user-text" }, el("strong", {}, t("visitor.q.reply")), " ", q.reply) : null,
      el("p", { class: "question-meta muted" }, meta.flatMap((part, i) => (i ? [" · ", part] : [part]))),
    ),
    vote,
  );
}

// What a question's node is built from; votes are painted in place (paintVote).
function keyOf(q) {
  return JSON.stringify([q.version, q.status, q.pinned, q.answered, lang(), q.mine || false]);
}

function voteKeyOf(state, q) {
  return `${q.votes}|${state.voted.has(q.id)}|${state.voting.has(q.id)}|${lang()}`;
}

function paintVote(state, q, entry) {
  const button = entry.node.querySelector(".question-vote");
  if (!button) return;
  const voted = state.voted.has(q.id);
  button.setAttribute("aria-pressed", voted ? "true" : "false");
  // Not `disabled`: that would drop the keyboard focus to <body>; vote() ignores clicks meanwhile.
  if (state.voting.has(q.id)) button.setAttribute("aria-disabled", "true");
  else button.removeAttribute("aria-disabled");
  button.querySelector(".vote-icon use").setAttribute("href", `${ICONS}#i-${voted ? "check" : "vote"}`);
  button.querySelector(".question-votes").textContent = fmtNumber(q.votes);
  button.querySelector(".votes-label").textContent = tn("visitor.q.votes_label", q.votes);
}

// Ask for a render: frames that arrive together (a burst of votes, a snapshot's worth of
// questions) cost one. A timer stands in for the animation frame in a hidden tab.
export function renderQuestions(state, onVote) {
  pending = [state, onVote];
  if (frame) return;
  const run = () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    frame = 0;
    if (!pending) return;
    const [s, v] = pending;
    pending = null;
    draw(s, v);
  };
  frame = requestAnimationFrame(run);
  timer = setTimeout(run, 100);
}

// The tops of the questions on (or near) the screen. Read before and after the DOM
// changes: the second read is the layout the browser would do for the frame anyway.
function positions() {
  const out = new Map();
  const reach = window.innerHeight;
  for (const [id, entry] of nodes) {
    if (!entry.node.isConnected) continue;
    const top = entry.node.getBoundingClientRect().top;
    if (top > -reach && top < 2 * reach) out.set(id, top);
  }
  return out;
}

// FLIP: each question that moved starts where it was and glides to its new place; a new
// one fades in. Transforms and opacity only, so the compositor does the work.
function glide(before) {
  const after = positions();
  const options = { duration: 360, easing: "cubic-bezier(0.2, 0.8, 0.2, 1)" };
  for (const [id, top] of after) {
    const was = before.get(id);
    const node = nodes.get(id).node;
    if (was === undefined) node.animate([{ opacity: 0, transform: "translateY(-0.5rem)" }, { opacity: 1, transform: "none" }], options);
    else if (Math.abs(was - top) > 1) node.animate([{ transform: `translateY(${was - top}px)` }, { transform: "none" }], options);
  }
}

function draw(state, onVote) {
  const list = document.getElementById("questions");
  const active = document.activeElement;
  const focusLi = active && active.closest ? active.closest("li.question") : null;
  const focus = focusLi ? { id: focusLi.dataset.id, vote: active.classList.contains("question-vote") } : null;
  const all = sortedQuestions(state);
  // A focused question stays in the page, wherever votes move it.
  if (focus) limit = Math.max(limit, all.findIndex((q) => q.id === focus.id) + 1);
  const wanted = all.slice(0, limit);
  // Only a change of order is animated (and measured): counts change in place.
  const shown = list.children;
  const reordered = !grew && wanted.some((q, i) => i < shown.length && shown[i].dataset.id !== q.id);
  const before = reordered && !instantNext && motionAllowed() ? positions() : null;
  instantNext = false;
  grew = false;
  const seen = new Set();
  const bumped = [];
  wanted.forEach((q, index) => {
    seen.add(q.id);
    const key = keyOf(q);
    let entry = nodes.get(q.id);
    if (!entry || entry.key !== key) {
      const node = questionNode(state, q, onVote);
      if (entry) entry.node.replaceWith(node);
      entry = { node, key, voteKey: null, votes: q.votes };
      nodes.set(q.id, entry);
    }
    const voteKey = voteKeyOf(state, q);
    if (entry.voteKey !== voteKey) {
      paintVote(state, q, entry);
      if (entry.voteKey !== null && entry.votes !== q.votes) bumped.push(entry.node);
      entry.voteKey = voteKey;
      entry.votes = q.votes;
    }
    if (shown[index] !== entry.node) list.insertBefore(entry.node, shown[index] || null);
  });
  for (const [id, entry] of nodes) {
    if (!seen.has(id)) {
      entry.node.remove();
      nodes.delete(id);
    }
  }
  if (before) glide(before);
  // After the writes, so that no read of the layout comes between them.
  if (motionAllowed()) for (const node of bumped) bump(node);
  list.dataset.total = String(all.length);
  renderCounts(all.length, wanted.length);
  if (focus && document.activeElement !== active) {
    const entry = nodes.get(focus.id);
    const target = entry && (focus.vote ? entry.node.querySelector(".question-vote") : entry.node);
    if (target) target.focus({ preventScroll: true });
  }
}

function bump(node) {
  const count = node.querySelector(".question-votes");
  if (count) count.animate([{ transform: "scale(1.4)" }, { transform: "none" }], { duration: 320, easing: "ease-out" });
}

let lastCounts = null;

function renderCounts(total, shown) {
  const changed = !lastCounts || lastCounts[0] !== total || lastCounts[1] !== shown;
  lastCounts = [total, shown];
  const number = fmtNumber(total);
  for (const id of ["questions-count", "tab-qa-count"]) {
    const badge = document.getElementById(id);
    if (!badge) continue;
    badge.hidden = total === 0;
    if (badge.textContent !== number) badge.textContent = number;
  }
  document.getElementById("questions-empty").hidden = total > 0;
  const more = document.getElementById("questions-more");
  const rest = total - shown;
  more.hidden = rest <= 0;
  more.textContent = rest > 0 ? tn("visitor.questions.more", Math.min(PAGE, rest)) : "";
  const line = document.getElementById("questions-shown");
  line.hidden = rest <= 0;
  line.textContent = rest > 0 ? t("visitor.questions.shown", { shown: fmtNumber(shown), total: number }) : "";
  if (rest > 0 && changed) recheckEnd();
}

// One page more (the button, or the end of the list coming near while scrolling).
export function showMore(state, onVote) {
  if (!lastCounts || lastCounts[1] >= lastCounts[0]) return false;
  limit += PAGE;
  grew = true;
  renderQuestions(state, onVote);
  return true;
}

// A new sort order starts at the top, without gliding.
export function resetPaging() {
  limit = PAGE;
  instantNext = true;
}

// Near the end of the list, the next page comes by itself (the button stays for keyboards).
export function watchListEnd(state, onVote) {
  const end = document.getElementById("after-questions");
  if (!("IntersectionObserver" in window) || !end) return;
  const observer = new IntersectionObserver(
    (entries) => {
      // Not while the button has the focus: a keyboard asks for more itself, and a list
      // growing on its own would carry the button away from under it.
      if (document.activeElement === document.getElementById("questions-more")) return;
      if (entries.some((e) => e.isIntersecting)) showMore(state, onVote);
    },
    { rootMargin: "0px 0px 600px 0px" },
  );
  observer.observe(end);
  // Observing again reports at once whether the end is in reach: after the list changed
  // (a tall screen, a short first page) the next page still comes without a scroll.
  recheckEnd = () => {
    observer.unobserve(end);
    observer.observe(end);
  };
}

// Rebuild every node (language changed).
export function resetQuestions() {
  for (const entry of nodes.values()) entry.key = null;
}

export function renderTransparency(state) {
  const box = document.getElementById("transparency");
  const counts = state.rejected || {};
  const total = REASONS.reduce((sum, r) => sum + (counts[r] || 0), 0);
  box.hidden = total === 0;
  if (!total) return;
  const reasons = REASONS.filter((r) => counts[r]).map((r) => `${fmtNumber(counts[r])} ${t(`visitor.reason.${r}`)}`).join(", ");
  box.textContent = tn("visitor.transparency", total, { reasons });
}

// Questions typed without a connection, waiting in Live's outbox.
// Own questions not sent yet: while offline every one ("as soon as the connection is
// back"); while online those over the rate limit, with their countdown ("in N s"), so a
// question never vanishes from the page while it waits. `delayed`: client_msg_id -> retryAt.
export function renderOutbox(frames, connected, delayed = new Map(), now = Date.now()) {
  const list = document.getElementById("outbox");
  const shown = connected ? frames.filter((f) => delayed.has(f.client_msg_id)) : frames;
  list.replaceChildren(
    ...shown.map((f) => {
      const retryAt = connected ? delayed.get(f.client_msg_id) : undefined;
      const when =
        retryAt === undefined
          ? t("visitor.outbox.waiting")
          : tn("visitor.outbox.in_seconds", Math.max(1, Math.ceil((retryAt - now) / 1000)));
      return el("li", { class: "outbox-item", dataset: { id: f.client_msg_id } }, el("p", { class: "outbox-text user-text" }, f.text), el("p", { class: "muted small outbox-when" }, when));
    }),
  );
  list.hidden = shown.length === 0;
  document.getElementById("outbox-box").hidden = shown.length === 0;
}

let listError = null;

export function showListError(err) {
  listError = err || null;
  document.getElementById("list-error").textContent = err ? errorText(err) : "";
}

// The language changed: the shown error again, in the new language.
export function refreshListError() {
  showListError(listError);
}
