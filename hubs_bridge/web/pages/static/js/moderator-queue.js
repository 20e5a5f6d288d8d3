// The queue: its parts (pending, approved, answered, rejected, deleted, merged) with
// counts, the filter chosen in the tabs above it (moderator-filters.js) showing one of
// them or all, one row per question (moderator-row.js), kept in order without
// rebuilding the rows that did not change, and the focus put back where the moderator
// works.
//
// Every part keeps its rows while another filter is shown (the part is only hidden):
// switching filters costs nothing, however long the queue.

import { el, lang, t } from "./common.js";
import { FILTERS, isShown, notePending, renderFilterCounts, selectedTab } from "./moderator-filters.js";
import { forget, questionItem, updateRow } from "./moderator-row.js";
import { SECTIONS, canUndelete, connected, messageOf, roomTitle, sectionOf, state } from "./moderator-state.js";

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

// Whether question `q` contains `search` (its text, answer, reply or a name), ignoring case.
export function matchesSearch(q, search) {
  if (!search) return true;
  const needle = search.toLocaleLowerCase();
  return [q.text, q.answer, q.reply, ...(q.authors || [])].some((s) => s && s.toLocaleLowerCase().includes(needle));
}

const matches = (q) => matchesSearch(q, state.search);

// The questions of each section, in display order.
export function grouped() {
  const groups = Object.fromEntries(SECTIONS.map((s) => [s, []]));
  for (const q of state.questions.values()) groups[sectionOf(q)].push(q);
  for (const s of SECTIONS) groups[s].sort(ORDER[s]);
  return groups;
}

// Every question shown now (the chosen filter, the search), in page order (for j/k).
export function visibleOrder() {
  const groups = grouped();
  return FILTERS[state.filter].flatMap((s) => groups[s].filter(matches).map((q) => q.id));
}

// Per section, the nodes a render writes to (found once: a query over the whole page
// per render would walk every row of a thousand-question queue, twelve times).
const parts = new Map(); // section -> {section, heading, name, count, empty, list}

function build(container) {
  for (const s of SECTIONS) {
    const name = el("span", { class: "section-name" });
    const count = el("span", { class: "badge section-count", id: `count-${s}` });
    const heading = el("h3", { id: `heading-${s}` }, name, " ", count);
    const empty = el("p", { class: "muted queue-empty" });
    const list = el("ul", { class: "list queue-list", id: `queue-${s}` });
    const section = el(
      "section",
      { class: "queue-section", id: `section-${s}`, "aria-labelledby": `heading-${s}`, dataset: { section: s } },
      heading,
      empty,
      list,
    );
    parts.set(s, { section, heading, name, count, empty, list });
  }
  container.replaceChildren(...SECTIONS.map((s) => parts.get(s).section));
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
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
  const inMenu = Boolean(active.closest(".question-menu"));
  return {
    id: item.dataset.id,
    element: active,
    // An item of the menu is gone once the row is redrawn: its menu button stands in.
    action: (!inMenu && active.dataset.action) || null,
    mode: (!inMenu && active.dataset.mode) || null,
    menu: inMenu || active.classList.contains("question-more"),
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
    if (neighbour && isShown(neighbour.dataset.section)) return show(neighbour);
    if (item && isShown(item.dataset.section)) return show(item);
    // It left the filter and was the last there: the tab, with its count, says what is left.
    return selectedTab().focus();
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
  if (target === item && mark.menu) target = item.querySelector(".question-more") || item;
  return show(target);
}

export function renderQueue() {
  const container = document.getElementById("queue-sections");
  if (!container) return;
  if (!parts.size) build(container);
  const mark = focusMark();
  const groups = grouped();
  const online = connected();
  const targets = groups.approved.length + groups.answered.length;
  const all = state.filter === "all";
  const total = {};
  const matching = {};
  const seen = new Set();
  for (const s of SECTIONS) {
    const shown = groups[s].filter(matches);
    const count = groups[s].length;
    total[s] = count;
    matching[s] = shown.length;
    const { section, heading, name, count: countNode, empty, list } = parts.get(s);
    section.hidden = !isShown(s);
    // One part shown: its tab names it, a heading would only repeat it.
    heading.hidden = !all;
    setText(name, t(`moderator.section.${s}`));
    setText(countNode, shown.length === count ? String(count) : t("moderator.count_filtered", { shown: shown.length, n: count }));
    setText(empty, state.search && count ? t("moderator.no_match", { text: state.search }) : t("moderator.empty"));
    empty.hidden = shown.length > 0;
    shown.forEach((q, index) => {
      seen.add(q.id);
      // Merge targets: the approved questions (answered or not) other than this one.
      const hasTargets = targets - (s === "approved" || s === "answered" ? 1 : 0) > 0;
      const key = keyOf(q, s, hasTargets);
      let entry = nodes.get(q.id);
      if (!entry || entry.key !== key) {
        const node = questionItem(q, s, hasTargets);
        if (entry) {
          forget(entry.node);
          entry.node.replaceWith(node);
        }
        entry = { node, key };
        nodes.set(q.id, entry);
      }
      updateRow(entry.node, q, online);
      if (list.children[index] !== entry.node) list.insertBefore(entry.node, list.children[index] || null);
    });
  }
  for (const [id, entry] of nodes) {
    if (!seen.has(id)) {
      forget(entry.node);
      entry.node.remove();
      nodes.delete(id);
    }
  }
  renderFilterCounts(total, matching);
  notePending(groups.pending);
  restoreFocus(mark);
}
