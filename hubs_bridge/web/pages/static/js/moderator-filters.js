// The queue's filters: a tab list (Offen, Freigegeben, Beantwortet, Abgelehnt, Alle) with
// live counts; the chosen filter kept in the address (/m/forum#pending), so a reload or a
// shared link opens it again; and new waiting questions told to screen readers.
//
// "Alle" shows every part of the queue under its heading, the deleted and the merged
// questions last: they get no tab of their own (they are few, wait for nothing but a
// possible undo, and a search finds them there). "Alle" is also where the console opens
// without an address of its own, so nothing is hidden that the moderator did not hide.

import { announce, fmtNumber, selectTab, setupTabs, t } from "./common.js";
import { SECTIONS, render, sectionOf, state } from "./moderator-state.js";

// filter -> the parts of the queue it shows, in that order.
export const FILTERS = {
  pending: ["pending"],
  approved: ["approved"],
  answered: ["answered"],
  rejected: ["rejected"],
  all: SECTIONS,
};
export const DEFAULT_FILTER = "all";

const $ = (id) => document.getElementById(id);

// The filter an address names ("#approved"), or null.
export function filterOf(hash) {
  const name = (hash || "").replace(/^#/, "");
  return Object.hasOwn(FILTERS, name) ? name : null;
}

export function isShown(section) {
  return FILTERS[state.filter].includes(section);
}

export function selectedTab() {
  return $(`filter-${state.filter}`);
}

// Show filter `name`; `remember`: write it into the address (not when it came from there).
function choose(name, remember) {
  state.filter = Object.hasOwn(FILTERS, name) ? name : DEFAULT_FILTER;
  const tab = selectedTab();
  selectTab($("queue-filters"), tab);
  $("queue-sections").setAttribute("aria-labelledby", tab.id);
  $("queue-sections").dataset.filter = state.filter;
  // replaceState: switching filters is not a page to go back through, and unlike
  // `location.hash =` it neither scrolls nor fires hashchange.
  if (remember) history.replaceState(history.state, "", `${location.pathname}${location.search}#${state.filter}`);
  render("queue");
}

export function setupFilters() {
  setupTabs($("queue-filters"), (tab) => choose(tab.dataset.filter, true));
  // A link or a hand-edited address; other anchors (the skip link's #main) change nothing.
  window.addEventListener("hashchange", () => {
    const name = filterOf(location.hash);
    if (name && name !== state.filter) choose(name, false);
  });
  choose(filterOf(location.hash) || DEFAULT_FILTER, false);
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// The count on each tab: how many questions it holds, or while searching how many of
// them match ("3 von 12"). `total` and `matching`: section -> number.
export function renderFilterCounts(total, matching) {
  for (const [name, sections] of Object.entries(FILTERS)) {
    const n = sections.reduce((sum, s) => sum + total[s], 0);
    const shown = sections.reduce((sum, s) => sum + matching[s], 0);
    const tab = $(`filter-${name}`);
    setText(
      $(`filter-count-${name}`),
      state.search ? t("moderator.count_filtered", { shown: fmtNumber(shown), n: fmtNumber(n) }) : fmtNumber(n),
    );
    if (tab.dataset.count !== String(n)) tab.dataset.count = String(n);
  }
}

// ---- new waiting questions, told to screen readers ----

const QUIET_MS = 2000; // at most one message in this time: a burst is one message

let watching = null; // the connection whose questions are known (a new sign-in starts afresh)
let known = new Set(); // ids of the questions seen waiting
let fresh = []; // ids of new waiting questions not told yet
let timer = null;
let lastTold = 0;

// Called with the waiting questions after each render of the queue: the count on "Offen"
// grew by new questions (not by one put back with undo), so say so, politely.
export function notePending(pending) {
  if (!state.role) return; // before the welcome nothing is known yet
  if (watching !== state.live) {
    // The questions of the first snapshot were there before the moderator came.
    watching = state.live;
    known = new Set(pending.map((q) => q.id));
    fresh = [];
    clearTimeout(timer);
    timer = null;
    return;
  }
  for (const q of pending) {
    if (!known.has(q.id)) {
      known.add(q.id);
      fresh.push(q.id);
    }
  }
  if (!fresh.length || timer !== null) return;
  timer = setTimeout(tellPending, Math.max(0, lastTold + QUIET_MS - Date.now()));
}

function tellPending() {
  timer = null;
  const waiting = [...state.questions.values()].filter((q) => sectionOf(q) === "pending");
  const still = fresh.map((id) => state.questions.get(id)).filter((q) => q && sectionOf(q) === "pending");
  fresh = [];
  if (!still.length) return;
  lastTold = Date.now();
  const n = fmtNumber(waiting.length);
  announce(
    still.length === 1
      ? t("moderator.new_pending", { text: still[0].text.slice(0, 120), n })
      : t("moderator.new_pending_many", { count: fmtNumber(still.length), n }),
  );
}
