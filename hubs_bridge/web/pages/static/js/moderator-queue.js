// The queue: sections (pending, approved, answered, rejected, deleted, merged) with
// counts, each question with its facts and the buttons of the actions it allows.

import { el, fmtDateTime, fmtTime, lang, t, tn } from "./common.js";
import { canUndelete, connected, messageOf, roomTitle, sectionOf, state } from "./moderator-state.js";

export const SECTIONS = ["pending", "approved", "answered", "rejected", "deleted", "merged"];

const byCreated = (a, b) => a.created_at.localeCompare(b.created_at);
const byUpdatedDesc = (a, b) => b.updated_at.localeCompare(a.updated_at);
const ORDER = {
  pending: byCreated, // first come, first served
  approved: (a, b) => Number(b.pinned) - Number(a.pinned) || b.votes - a.votes || byCreated(a, b),
  answered: byUpdatedDesc,
  rejected: byUpdatedDesc,
  deleted: (a, b) => b.deleted_at.localeCompare(a.deleted_at),
  merged: byUpdatedDesc,
};

// Questions that another one may be merged into: approved (answered or not), shown to all.
export function mergeTargets(id) {
  return [...state.questions.values()]
    .filter((q) => q.id !== id && q.status === "approved" && !q.deleted_at)
    .sort(ORDER.approved);
}

function matches(q) {
  if (!state.filter) return true;
  const needle = state.filter.toLocaleLowerCase();
  return [q.text, q.answer, q.reply, ...(q.authors || [])].some((s) => s && s.toLocaleLowerCase().includes(needle));
}

// The questions of each section, in display order.
export function grouped() {
  const groups = Object.fromEntries(SECTIONS.map((s) => [s, []]));
  for (const q of state.questions.values()) groups[sectionOf(q)].push(q);
  for (const s of SECTIONS) groups[s].sort(ORDER[s]);
  return groups;
}

// Every visible question in page order (for j/k).
export function visibleOrder() {
  const groups = grouped();
  return SECTIONS.flatMap((s) => groups[s].filter(matches).map((q) => q.id));
}

function actionButton(q, action, key, { mode, danger } = {}) {
  return el(
    "button",
    {
      type: "button",
      class: `btn btn-small${danger ? " btn-danger" : ""}`,
      dataset: mode ? { action, mode } : { action },
      "aria-describedby": `qt-${q.id}`,
    },
    t(`moderator.action.${key}`),
  );
}

function actionsOf(q, section, hasTargets) {
  const b = (action, key, opts) => actionButton(q, action, key, opts);
  const buttons = [];
  const approved = q.status === "approved";
  if (section === "deleted") {
    if (canUndelete(q)) buttons.push(b("undelete", "undelete"));
    return buttons;
  }
  if (section === "merged") return buttons;
  if (section === "pending" || section === "rejected") buttons.push(b("approve", "approve"));
  if (approved) buttons.push(q.pinned ? b("unpin", "unpin") : b("pin", "pin"));
  if (section !== "rejected") {
    if (q.answered !== "live") buttons.push(b("answer", "answer_live", { mode: "live" }));
    buttons.push(b("answer", q.answered === "written" ? "answer_change" : "answer_written", { mode: "written" }));
    buttons.push(b("reply", "reply"));
  }
  buttons.push(b("edit", "edit"));
  if (section !== "rejected" && hasTargets) buttons.push(b("merge", "merge"));
  if (section !== "rejected") buttons.push(b("reject", "reject", { danger: true }));
  buttons.push(b("delete", "delete", { danger: true }));
  return buttons;
}

function badges(q, section) {
  const out = [];
  if (q.pinned) out.push(el("span", { class: "badge badge-info question-pinned" }, t("moderator.badge.pinned")));
  if (q.answered) {
    out.push(el("span", { class: "badge badge-ok question-answered", dataset: { answered: q.answered } }, t(`moderator.badge.answered_${q.answered}`)));
  }
  if (section === "rejected" && q.reject_reason) {
    out.push(el("span", { class: "badge badge-danger question-reason", dataset: { reason: q.reject_reason } }, t(`moderator.reason.${q.reject_reason}`)));
  }
  if (q.edited) out.push(el("span", { class: "badge question-edited" }, t("moderator.badge.edited")));
  if (q.held_for && q.held_for.length) {
    out.push(el("span", { class: "badge badge-warn question-held" }, t("moderator.badge.held", { words: q.held_for.join(", ") })));
  }
  out.push(el("span", { class: "badge question-source", dataset: { source: q.source } }, t(`moderator.source.${q.source === "hubs" ? "hubs" : "web"}`)));
  return out;
}

function questionItem(q, section, hasTargets) {
  const merged = q.merged_into && state.questions.get(q.merged_into);
  const authors = q.authors && q.authors.length ? q.authors.join(", ") : t("moderator.anonymous");
  const error = state.errors.has(q.id) ? messageOf(state.errors.get(q.id)) : "";
  return el(
    "li",
    {
      class: "question",
      tabindex: "-1",
      "aria-labelledby": `qt-${q.id}`,
      dataset: { id: q.id, status: q.status, section, pinned: String(q.pinned), answered: q.answered || "" },
    },
    el("div", { class: "question-badges row" }, badges(q, section)),
    el("p", { class: "question-text user-text", id: `qt-${q.id}` }, q.text),
    q.edited && q.original_text ? el("p", { class: "question-original muted" }, t("moderator.original"), " ", el("span", { class: "user-text" }, q.original_text)) : null,
    q.answer ? el("p", { class: "question-answer" }, el("strong", {}, t("moderator.answer"), " "), el("span", { class: "user-text" }, q.answer)) : null,
    q.reply ? el("p", { class: "question-reply" }, el("strong", {}, t("moderator.reply"), " "), el("span", { class: "user-text" }, q.reply)) : null,
    q.merged_into ? el("p", { class: "question-merged muted" }, t("moderator.merged_into"), " ", el("span", { class: "user-text" }, merged ? merged.text : q.merged_into)) : null,
    q.merged_from && q.merged_from.length ? el("p", { class: "muted" }, tn("moderator.merged_from", q.merged_from.length)) : null,
    el(
      "p",
      { class: "question-meta muted" },
      el("span", { class: "question-votes", dataset: { votes: String(q.votes) } }, tn("moderator.votes", q.votes)),
      " · ",
      el("span", { class: "question-authors" }, authors),
      " · ",
      el("span", { class: "question-room" }, roomTitle(q.room)),
      " · ",
      el("time", { datetime: q.created_at, title: fmtDateTime(q.created_at) }, fmtTime(q.created_at)),
      q.deleted_at ? [" · ", el("span", { class: "question-deleted" }, t("moderator.deleted_at", { time: fmtTime(q.deleted_at) }))] : null,
    ),
    el("div", { class: "question-actions row" }, actionsOf(q, section, hasTargets)),
    el("p", { class: "question-error field-error", hidden: !error }, error || ""),
  );
}

let built = false;

function build(container, nav) {
  container.replaceChildren(
    ...SECTIONS.map((s) =>
      el(
        "section",
        { class: "queue-section", id: `section-${s}`, "aria-labelledby": `heading-${s}`, dataset: { section: s } },
        el("h3", { id: `heading-${s}` }, el("span", { class: "section-name" }), " ", el("span", { class: "badge section-count", id: `count-${s}` })),
        el("p", { class: "muted queue-empty" }),
        el("ul", { class: "list queue-list", id: `queue-${s}` }),
      ),
    ),
  );
  nav.replaceChildren(
    ...SECTIONS.map((s) => el("li", {}, el("a", { href: `#section-${s}`, class: "queue-tab", dataset: { section: s } }, el("span", { class: "section-name" }), " ", el("span", { class: "badge section-count" })))),
  );
  built = true;
}

// Everything a question's node shows except its vote count (updated in place, so a
// stream of votes never rebuilds the queue: clicks, focus and the reading position stay).
function keyOf(q, section, hasTargets) {
  const { votes, ...rest } = q;
  const merged = q.merged_into && state.questions.get(q.merged_into);
  const error = state.errors.has(q.id) ? messageOf(state.errors.get(q.id)) : null;
  return JSON.stringify([rest, section, hasTargets, error, lang(), canUndelete(q), merged ? merged.text : null, roomTitle(q.room)]);
}

const nodes = new Map(); // id -> {node, key}

// Vote count, selection and whether the actions can be sent: changed in place.
function update(node, q, online) {
  const votes = node.querySelector(".question-votes");
  if (votes.dataset.votes !== String(q.votes)) {
    votes.dataset.votes = String(q.votes);
    votes.textContent = tn("moderator.votes", q.votes);
  }
  const selected = state.selected === q.id;
  node.classList.toggle("selected", selected);
  node.tabIndex = selected ? 0 : -1;
  if (selected) node.setAttribute("aria-current", "true");
  else node.removeAttribute("aria-current");
  for (const button of node.querySelectorAll(".question-actions button")) {
    if (online) button.removeAttribute("aria-disabled");
    else button.setAttribute("aria-disabled", "true");
  }
}

function itemOf(id) {
  return id ? document.querySelector(`li.question[data-id="${CSS.escape(id)}"]`) : null;
}

// Where focus is (a question, which of its buttons, its section and a neighbour there),
// to put it back after a redraw or a dialog.
export function focusMark() {
  const active = document.activeElement;
  const item = active && active.closest && active.closest("li.question");
  if (!item) return null;
  const next = item.nextElementSibling || item.previousElementSibling;
  return {
    id: item.dataset.id,
    element: active,
    action: active.dataset.action || null,
    mode: active.dataset.mode || null,
    section: item.dataset.section,
    neighbour: next ? next.dataset.id : null,
  };
}

const OTHER = { pin: "unpin", unpin: "pin" };

function show(target) {
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: "nearest" });
}

// A question that left its section (approved, rejected, deleted...): focus goes to its
// neighbour there, where the moderator is working, not to a far section off-screen.
export function restoreFocus(mark) {
  if (!mark) return;
  if (mark.element && mark.element.isConnected && document.activeElement === mark.element) return;
  const item = itemOf(mark.id);
  if (!item || item.dataset.section !== mark.section) {
    const neighbour = itemOf(mark.neighbour);
    if (neighbour) return show(neighbour);
    if (!item) return undefined;
    return show(item);
  }
  let target = item;
  for (const action of mark.action ? [mark.action, OTHER[mark.action]] : []) {
    if (!action) continue;
    const selector = `button[data-action="${action}"]${mark.mode ? `[data-mode="${mark.mode}"]` : ""}`;
    const button = item.querySelector(selector);
    if (button) {
      target = button;
      break;
    }
  }
  return show(target);
}

export function renderQueue() {
  const container = document.getElementById("queue-sections");
  const nav = document.getElementById("queue-tabs");
  if (!container) return;
  if (!built) build(container, nav);
  const mark = focusMark();
  const groups = grouped();
  const online = connected();
  const targets = groups.approved.length + groups.answered.length;
  const seen = new Set();
  for (const s of SECTIONS) {
    const shown = groups[s].filter(matches);
    const count = groups[s].length;
    const name = t(`moderator.section.${s}`);
    const countText = shown.length === count ? String(count) : t("moderator.count_filtered", { shown: shown.length, n: count });
    for (const node of document.querySelectorAll(`#section-${s} .section-name, .queue-tab[data-section="${s}"] .section-name`)) node.textContent = name;
    for (const node of document.querySelectorAll(`#count-${s}, .queue-tab[data-section="${s}"] .section-count`)) {
      node.textContent = countText;
    }
    const empty = document.querySelector(`#section-${s} .queue-empty`);
    empty.textContent = t("moderator.empty");
    empty.hidden = shown.length > 0;
    const list = document.getElementById(`queue-${s}`);
    shown.forEach((q, index) => {
      seen.add(q.id);
      // Merge targets: the approved questions (answered or not) other than this one.
      const hasTargets = targets - (s === "approved" || s === "answered" ? 1 : 0) > 0;
      const key = keyOf(q, s, hasTargets);
      let entry = nodes.get(q.id);
      if (!entry || entry.key !== key) {
        const node = questionItem(q, s, hasTargets);
        if (entry) entry.node.replaceWith(node);
        entry = { node, key };
        nodes.set(q.id, entry);
      }
      update(entry.node, q, online);
      if (list.children[index] !== entry.node) list.insertBefore(entry.node, list.children[index] || null);
    });
  }
  for (const [id, entry] of nodes) {
    if (!seen.has(id)) {
      entry.node.remove();
      nodes.delete(id);
    }
  }
  restoreFocus(mark);
}
