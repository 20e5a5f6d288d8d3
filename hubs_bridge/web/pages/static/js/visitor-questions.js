// The Q&A list of the visitor page: questions sorted by top or new (pinned first),
// votes as toggles, own pending and rejected questions marked, the transparency
// counts, and the outbox of questions waiting for the connection.
//
// Nodes are kept per question and rebuilt only when the question (or the language)
// changed, so a vote button keeps its focus while other questions update.

import { el, errorText, fmtNumber, fmtTime, lang, localized, t, tn } from "./common.js";

const REASONS = ["off_topic", "duplicate", "offensive", "other"];
const nodes = new Map(); // id -> {node, key}

function roomTitle(state, slug) {
  const room = state.event && state.event.rooms.find((r) => r.slug === slug);
  return room ? localized(room, "title") : slug;
}

export function sortedQuestions(state) {
  const byNew = (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at);
  return [...state.questions.values()].sort(
    (a, b) => Number(b.pinned) - Number(a.pinned) || (state.sort === "top" ? b.votes - a.votes : 0) || byNew(a, b),
  );
}

function badges(state, q) {
  const out = [];
  if (q.pinned) out.push(el("span", { class: "badge badge-info question-pinned" }, t("visitor.q.pinned")));
  if (q.answered) {
    const key = q.answered === "written" ? "visitor.q.answered_written" : "visitor.q.answered_live";
    out.push(el("span", { class: "badge badge-ok question-answered", dataset: { mode: q.answered } }, t(key)));
  }
  if (q.status === "pending") out.push(el("span", { class: "badge badge-warn question-pending" }, t("visitor.q.pending")));
  if (q.status === "rejected") {
    const reason = q.reject_reason ? t(`visitor.reason.${q.reject_reason}`) : t("visitor.reason.other");
    out.push(el("span", { class: "badge badge-danger question-rejected" }, t("visitor.q.rejected", { reason })));
  }
  if (q.mine) out.push(el("span", { class: "badge question-mine" }, t("visitor.q.mine")));
  return out;
}

function questionNode(state, q, onVote) {
  const voted = state.voted.has(q.id);
  const who = q.authors && q.authors.length ? q.authors.join(", ") : t("visitor.q.anonymous");
  const meta = [who, el("time", { datetime: q.created_at }, fmtTime(q.created_at))];
  if (q.room) meta.push(t("visitor.q.room", { room: roomTitle(state, q.room) }));
  if (q.source === "hubs") meta.push(t("visitor.q.hubs"));
  let votes;
  if (q.status === "approved") {
    const button = el(
      "button",
      {
        type: "button",
        class: "btn btn-small question-vote",
        "aria-pressed": voted ? "true" : "false",
        // Not `disabled`: that would drop the keyboard focus to <body>; vote() ignores clicks meanwhile.
        "aria-disabled": state.voting.has(q.id) ? "true" : null,
        "aria-describedby": `q-text-${q.id}`,
      },
      el("span", { class: "vote-arrow", "aria-hidden": "true" }, "▲"),
      el("span", {}, t("visitor.q.vote")),
    );
    button.addEventListener("click", () => onVote(q.id));
    votes = el(
      "div",
      { class: "question-actions" },
      button,
      el("span", { class: "question-votes-box" }, el("span", { class: "question-votes" }, String(q.votes)), " ", el("span", { class: "votes-label" }, tn("visitor.q.votes_label", q.votes))),
    );
  }
  return el(
    "li",
    { class: q.pinned ? "question question-is-pinned" : "question", dataset: { id: q.id, status: q.status } },
    el("div", { class: "question-badges" }, badges(state, q)),
    el("p", { class: "question-text user-text", id: `q-text-${q.id}` }, q.text),
    q.answer ? el("p", { class: "question-answer user-text" }, el("strong", {}, t("visitor.q.answer")), " ", q.answer) : null,
    q.reply ? el("p", { class: "question-reply user-text" }, el("strong", {}, t("visitor.q.reply")), " ", q.reply) : null,
    el("p", { class: "question-meta muted" }, meta.flatMap((part, i) => (i ? [" · ", part] : [part]))),
    votes,
  );
}

function keyOf(state, q) {
  return JSON.stringify([q.version, q.votes, q.status, q.pinned, state.voted.has(q.id), state.voting.has(q.id), lang(), q.mine || false]);
}

export function renderQuestions(state, onVote) {
  const list = document.getElementById("questions");
  const active = document.activeElement;
  const focusLi = active && active.closest ? active.closest("li.question") : null;
  const focus = focusLi ? { id: focusLi.dataset.id, vote: active.classList.contains("question-vote") } : null;
  const wanted = sortedQuestions(state);
  const seen = new Set();
  wanted.forEach((q, index) => {
    seen.add(q.id);
    const key = keyOf(state, q);
    let entry = nodes.get(q.id);
    if (!entry || entry.key !== key) {
      const node = questionNode(state, q, onVote);
      if (entry) entry.node.replaceWith(node);
      entry = { node, key };
      nodes.set(q.id, entry);
    }
    if (list.children[index] !== entry.node) list.insertBefore(entry.node, list.children[index] || null);
  });
  for (const [id, entry] of nodes) {
    if (!seen.has(id)) {
      entry.node.remove();
      nodes.delete(id);
    }
  }
  document.getElementById("questions-empty").hidden = wanted.length > 0;
  if (focus && document.activeElement !== active) {
    const entry = nodes.get(focus.id);
    const target = entry && (focus.vote ? entry.node.querySelector(".question-vote") : entry.node);
    if (target) target.focus();
  }
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
