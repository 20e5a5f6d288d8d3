// The merge picker of the action dialog: the approved questions a question can be merged
// into, the most similar first under "Ähnliche Fragen", then the others; a search field
// narrows both. The question being merged is never offered.
//
// "Similar" is the server's similarity (core/similar.py through
// GET /api/events/{event}/questions/similar, the same the visitor page asks before a
// question is sent), so a duplicate is found the same way on both pages. The picker is a
// native list box (<select size>) with a group per kind: arrow keys, type-ahead and
// screen readers work as everywhere. Until the lookup answers, or if it fails, all
// targets are listed in their queue order.

import { api, el, fmtNumber, onLangChange, t, tn } from "./common.js";
import { matchesSearch, mergeTargets } from "./moderator-queue.js";
import { state } from "./moderator-state.js";

const $ = (id) => document.getElementById(id);

// The question being merged, its targets, the similar ones' ids (best first), and whether
// the moderator chose a target themselves (then a late answer does not move the choice).
let picker = null; // {id, targets, byId, similar, ready, touched}
let asked = 0; // answers to an older lookup are dropped

function truncate(text, n = 90) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function option(q) {
  return el("option", { value: q.id }, `${truncate(q.text)} · ${fmtNumber(q.votes)} ${tn("moderator.votes_word", q.votes)}`);
}

function draw() {
  const select = $("merge-target");
  const search = $("merge-search").value.trim();
  const before = select.value;
  const similarIds = new Set(picker.similar);
  const similar = picker.similar.map((id) => picker.byId.get(id)).filter((q) => matchesSearch(q, search));
  const rest = picker.targets.filter((q) => !similarIds.has(q.id) && matchesSearch(q, search));
  const groups = [];
  if (similar.length) groups.push(el("optgroup", { label: t("moderator.merge.similar") }, similar.map(option)));
  if (rest.length) groups.push(el("optgroup", { label: t(picker.similar.length ? "moderator.merge.others" : "moderator.merge.all") }, rest.map(option)));
  select.replaceChildren(...groups);
  const ids = [...similar, ...rest].map((q) => q.id);
  // The moderator's choice stays while it is listed; otherwise the best one is chosen.
  select.value = picker.touched && ids.includes(before) ? before : ids[0] || "";
  const status = $("merge-status");
  if (search) {
    status.textContent = ids.length ? tn("moderator.merge.found", ids.length) : t("moderator.merge.none_found", { text: search });
  } else if (!picker.ready) {
    status.textContent = t("moderator.merge.looking");
  } else {
    status.textContent = similar.length ? tn("moderator.merge.similar_found", similar.length) : t("moderator.merge.no_similar");
  }
}

async function lookUp(q) {
  const mine = ++asked;
  // The endpoint takes what a visitor may type; a question edited longer is cut there.
  const qa = state.eventData && state.eventData.qa;
  const text = [...q.text].slice(0, (qa && qa.max_question_chars) || 500).join("");
  let found = [];
  try {
    const event = encodeURIComponent(state.event);
    const path = `/api/events/${event}/questions/similar?text=${encodeURIComponent(text)}&exclude=${encodeURIComponent(q.id)}`;
    found = (await api("GET", path, { token: state.token })).questions || [];
  } catch (_) {
    found = []; // a suggestion is a help: without it the list is still complete
  }
  if (!picker || picker.id !== q.id || mine !== asked) return;
  picker.similar = found.map((f) => f.id).filter((id) => picker.byId.has(id));
  picker.ready = true;
  $("dialog-merge-field").dataset.state = "ready";
  draw();
}

// Fill the picker for question `id`; the element to focus first.
export function openMerge(id) {
  const q = state.questions.get(id);
  const targets = mergeTargets(id);
  picker = { id, targets, byId: new Map(targets.map((target) => [target.id, target])), similar: [], ready: false, touched: false };
  $("dialog-merge-field").dataset.state = "looking";
  $("merge-search").value = "";
  draw();
  lookUp(q);
  return $("merge-target");
}

export function closeMerge() {
  picker = null;
  asked += 1;
}

// The chosen target's id, or "" when none is (a search that matched nothing).
export function mergeChoice() {
  return $("merge-target").value;
}

export function setupMerge() {
  const select = $("merge-target");
  const search = $("merge-search");
  search.addEventListener("input", () => {
    if (picker) draw();
  });
  // From the search, down (or Enter: never a merge by accident) goes into the list.
  search.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "Enter") return;
    event.preventDefault();
    if (!select.value && select.options.length) select.value = select.options[0].value;
    select.focus();
  });
  select.addEventListener("change", () => {
    if (picker) picker.touched = true;
  });
  // Enter in the list merges into the chosen question, as the dialog's button does.
  select.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    $("dialog-form").requestSubmit();
  });
  onLangChange(() => {
    if (picker) draw();
  });
}
