// One question of the console's queue as one dense row: its votes; its text (two lines,
// the rest on demand) with its markers and who, where and when; then the two main
// actions of its state as icon buttons and a menu button for the others
// (moderator-commands.js says which, moderator-menu.js opens the menu).

import { el, fmtDateTime, fmtNumber, fmtTime, t, tn } from "./common.js";
import { commandsFor } from "./moderator-commands.js";
import { icon } from "./moderator-icons.js";
import { messageOf, roomTitle, state } from "./moderator-state.js";

// An icon button of a row's two main actions: its name for screen readers, its key in
// the tooltip, the question's text as its description.
function actionButton(q, command) {
  const label = t(command.label);
  return el(
    "button",
    {
      type: "button",
      class: `icon-btn${command.tone ? ` tone-${command.tone}` : ""}`,
      dataset: command.mode ? { action: command.action, mode: command.mode } : { action: command.action },
      "aria-label": label,
      "aria-keyshortcuts": command.key || null,
      "aria-describedby": `qt-${q.id}`,
      title: command.key ? t("moderator.key_hint", { label, key: command.key }) : label,
    },
    icon(command.icon),
  );
}

function moreButton(q) {
  const label = t("moderator.action.more");
  return el(
    "button",
    {
      type: "button",
      class: "icon-btn question-more",
      id: `qmore-${q.id}`,
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-label": label,
      "aria-describedby": `qt-${q.id}`,
      title: t("moderator.key_hint", { label, key: "." }),
    },
    icon("more"),
  );
}

function actionsOf(q, section, hasTargets) {
  const { primary, menu } = commandsFor(q, section, hasTargets);
  return [...primary.map((command) => actionButton(q, command)), menu.length ? moreButton(q) : null];
}

// Markers that stay readable on one line: pinned, answered, why rejected, edited, held.
function badges(q, section) {
  const out = [];
  if (q.held_for && q.held_for.length) {
    out.push(el("span", { class: "badge badge-warn question-held" }, t("moderator.badge.held", { words: q.held_for.join(", ") })));
  }
  if (q.pinned) out.push(el("span", { class: "badge badge-info question-pinned" }, t("moderator.badge.pinned")));
  if (q.answered) {
    out.push(el("span", { class: "badge badge-ok question-answered", dataset: { answered: q.answered } }, t(`moderator.badge.answered_${q.answered}`)));
  }
  if (section === "rejected" && q.reject_reason) {
    out.push(el("span", { class: "badge badge-danger question-reason", dataset: { reason: q.reject_reason } }, t(`moderator.reason.${q.reject_reason}`)));
  }
  if (q.edited) out.push(el("span", { class: "badge question-edited" }, t("moderator.badge.edited")));
  return out;
}

// A line under the text (answer, reply, original wording, where it was merged): one
// line each until the row is expanded.
function extra(cls, label, text) {
  return el("p", { class: `question-extra ${cls}` }, el("strong", {}, label, " "), el("span", { class: "user-text" }, text));
}

function votes(n) {
  return el(
    "span",
    { class: "question-votes", dataset: { votes: String(n) } },
    el("span", { class: "votes-n" }, fmtNumber(n)),
    " ",
    el("span", { class: "votes-word" }, tn("moderator.votes_word", n)),
  );
}

export function questionItem(q, section, hasTargets) {
  const merged = q.merged_into && state.questions.get(q.merged_into);
  const authors = q.authors && q.authors.length ? q.authors.join(", ") : t("moderator.anonymous");
  const error = state.errors.has(q.id) ? messageOf(state.errors.get(q.id)) : "";
  const open = expanded.has(q.id);
  const sep = " · ";
  const node = el(
    "li",
    {
      class: `question${open ? " expanded" : ""}`,
      tabindex: "-1",
      "aria-labelledby": `qt-${q.id}`,
      dataset: { id: q.id, status: q.status, section, pinned: String(q.pinned), answered: q.answered || "" },
    },
    el("div", { class: "question-count" }, votes(q.votes)),
    el(
      "div",
      { class: "question-body" },
      el("p", { class: "question-text user-text clamp", id: `qt-${q.id}` }, q.text),
      q.edited && q.original_text ? extra("question-original muted clamp", t("moderator.original"), q.original_text) : null,
      q.answer ? extra("question-answer clamp", t("moderator.answer"), q.answer) : null,
      q.reply ? extra("question-reply clamp", t("moderator.reply"), q.reply) : null,
      q.merged_into ? extra("question-merged muted clamp", t("moderator.merged_into"), merged ? merged.text : q.merged_into) : null,
      el(
        "p",
        { class: "question-meta" },
        badges(q, section),
        el("span", { class: "question-authors" }, authors),
        sep,
        el("span", { class: "question-room" }, roomTitle(q.room)),
        sep,
        el("time", { datetime: q.created_at, title: fmtDateTime(q.created_at) }, fmtTime(q.created_at)),
        sep,
        el("span", { class: "question-source", dataset: { source: q.source } }, t(`moderator.source.${q.source === "hubs" ? "hubs" : "web"}`)),
        q.merged_from && q.merged_from.length ? [sep, el("span", { class: "question-merged-from" }, tn("moderator.merged_from", q.merged_from.length))] : null,
        q.deleted_at ? [sep, el("span", { class: "question-deleted" }, t("moderator.deleted_at", { time: fmtTime(q.deleted_at) }))] : null,
        open ? expandButton(q.id, true) : null,
      ),
      error ? el("p", { class: "question-error field-error" }, error) : null,
    ),
    el("div", { class: "question-actions" }, actionsOf(q, section, hasTargets)),
  );
  watchClamp(node);
  return node;
}

// ---- long texts: two lines, and a button to show the rest where something is cut ----

const expanded = new Set(); // ids of the rows shown in full

// Made only for a row that needs it (most rows are short): fewer nodes in a long queue.
function expandButton(id, open) {
  return el(
    "button",
    { type: "button", class: "question-expand", "aria-expanded": String(open), "aria-controls": `qt-${id}` },
    t(open ? "moderator.text_less" : "moderator.text_more"),
  );
}

function clampedIn(node) {
  return [...node.querySelectorAll(".clamp")].some((part) => part.scrollHeight > part.clientHeight + 1);
}

// Measure every row first, then change the buttons: a read after each write would lay
// the whole queue out again per row.
function showExpand(rows) {
  const shown = rows.map((row) => row.classList.contains("expanded") || clampedIn(row));
  rows.forEach((row, i) => {
    const button = row.querySelector(".question-expand");
    if (button) {
      if (button.hidden === shown[i]) button.hidden = !shown[i];
    } else if (shown[i]) row.querySelector(".question-meta").append(expandButton(row.dataset.id, false));
  });
}

// One observer for the whole queue, on each row's text: a row is measured when it
// appears and when its width changes (a window resized), never on every render.
const clampObserver = typeof ResizeObserver === "function"
  ? new ResizeObserver((entries) => {
      const rows = entries.map((entry) => entry.target.closest("li.question")).filter(Boolean);
      showExpand([...new Set(rows)]);
    })
  : null;

function watchClamp(node) {
  if (clampObserver) clampObserver.observe(node.querySelector(".question-text"));
}

export function forget(node) {
  if (clampObserver) clampObserver.unobserve(node.querySelector(".question-text"));
}

export function toggleExpanded(node) {
  const open = !node.classList.contains("expanded");
  node.classList.toggle("expanded", open);
  if (open) expanded.add(node.dataset.id);
  else expanded.delete(node.dataset.id);
  const button = node.querySelector(".question-expand");
  button.setAttribute("aria-expanded", String(open));
  button.textContent = t(open ? "moderator.text_less" : "moderator.text_more");
  showExpand([node]);
}

// What a row last showed of its votes, selection and connection (a render of a
// thousand rows then touches only the rows that changed).
const lastShown = new WeakMap(); // row -> {votes, selected, online}

// Vote count, selection and whether the actions can be sent: changed in place.
export function updateRow(node, q, online) {
  const last = lastShown.get(node) || {};
  const selected = state.selected === q.id;
  if (last.votes !== q.votes) {
    const votes = node.querySelector(".question-votes");
    votes.dataset.votes = String(q.votes);
    votes.querySelector(".votes-n").textContent = fmtNumber(q.votes);
    votes.querySelector(".votes-word").textContent = tn("moderator.votes_word", q.votes);
  }
  // The focusin handler in moderator-actions.js may have moved the selection itself.
  if (last.selected !== selected || node.classList.contains("selected") !== selected) {
    node.classList.toggle("selected", selected);
    node.tabIndex = selected ? 0 : -1;
    if (selected) node.setAttribute("aria-current", "true");
    else node.removeAttribute("aria-current");
  }
  if (last.online !== online) {
    for (const button of node.querySelectorAll(".question-actions button[data-action]")) {
      if (online) button.removeAttribute("aria-disabled");
      else button.setAttribute("aria-disabled", "true");
    }
  }
  lastShown.set(node, { votes: q.votes, selected, online });
}
