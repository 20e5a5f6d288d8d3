// A live poll's results as every page shows them (visitor page, moderator console, stage):
// bars with counts and percentages, a rating's average, a text poll's word cloud, or,
// while the results are hidden from visitors, only how many have answered.
//
// A results box is built once per poll and language and then updated in place, so the
// bars glide to their new length (CSS transitions; none with prefers-reduced-motion)
// and a frame storm never rebuilds the page. Words and options are people's text: they
// only ever become text nodes.

import { el, lang, locale, localized, t, tn } from "./common.js";

export const TEXT_MAX = 60; // core/polls.py MAX_TEXT_CHARS
const RATINGS = [1, 2, 3, 4, 5];

// The labels of the counts, in order: the options, or the five ratings.
export function labelsOf(poll) {
  return poll.kind === "rating" ? RATINGS.map((n) => t("polls.rating.option", { n })) : poll.options;
}

// A whole percentage of the respondents (a multiple-choice poll's shares add up to more).
export function share(count, respondents) {
  return respondents > 0 ? Math.round((100 * count) / respondents) : 0;
}

export function fmtPercent(value) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(value / 100);
}

function fmtAverage(value) {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
}

// "Für: Info-Foyer" (or the whole event), with the event's room titles.
export function roomsText(poll, event) {
  if (!poll.rooms || !poll.rooms.length) return t("polls.rooms.event");
  const rooms = (event && event.rooms) || [];
  const titles = poll.rooms.map((slug) => {
    const room = rooms.find((r) => r.slug === slug);
    return room ? localized(room, "title") : slug;
  });
  return t("polls.rooms", { rooms: titles.join(", ") });
}

export function stateBadge(poll) {
  const tone = { draft: "badge-warn", open: "badge-ok", closed: "" }[poll.state] ?? "";
  return el("span", { class: `badge poll-state ${tone}`.trim(), dataset: { state: poll.state } }, t(`polls.state.${poll.state}`));
}

// The one answer of this visitor as words ("Ja", "4 von 5", or their text).
export function answerText(poll, answer) {
  if (!answer) return "";
  if (poll.kind === "text") return answer.text || "";
  const labels = labelsOf(poll);
  return answer.choices.map((i) => labels[i] ?? String(i + 1)).join(", ");
}

// Newest open polls first, then the closed ones, last closed first (drafts: newest first).
export function byRecency(a, b) {
  const rank = { open: 0, draft: 1, closed: 2 };
  const when = (p) => Date.parse(p.closed_at || p.opened_at || p.created_at || 0) || 0;
  return rank[a.state] - rank[b.state] || when(b) - when(a);
}

// The cloud's biggest words in the middle: a visual order only (the DOM keeps the most
// frequent first, which is what a screen reader reads).
function cloudOrder(index, total) {
  const middle = Math.floor(total / 2);
  return index % 2 === 0 ? middle - index / 2 : middle + (index + 1) / 2;
}

function renderCloud(words) {
  if (!words.length) return el("p", { class: "poll-cloud-empty muted" }, t("polls.cloud.empty"));
  const top = words[0][1] || 1;
  const list = el("ul", { class: "poll-cloud", "aria-label": t("polls.cloud") });
  words.forEach(([word, n], index) => {
    // Five sizes by frequency relative to the most frequent word.
    const size = Math.min(5, Math.max(1, 1 + Math.round((4 * n) / top)));
    const item = el(
      "li",
      { class: `poll-word poll-word-${size}`, dataset: { word, count: String(n) } },
      el("span", { "aria-hidden": "true" }, word),
      el("span", { class: "visually-hidden" }, t("polls.cloud.count", { word, n })),
    );
    item.style.order = String(cloudOrder(index, words.length)); // CSSOM: allowed by the CSP
    list.append(item);
  });
  return list;
}

function barRow(label, index, mine) {
  return el(
    "li",
    { class: mine ? "poll-bar poll-bar-mine" : "poll-bar", dataset: { index: String(index) } },
    el(
      "span",
      { class: "poll-bar-head" },
      el("span", { class: "poll-bar-label user-text" }, label),
      mine ? el("span", { class: "badge badge-info poll-bar-badge" }, t("polls.bar.mine")) : null,
      el("span", { class: "poll-bar-value" }, el("span", { class: "poll-bar-count" }, "0"), " ", el("span", { class: "poll-bar-percent" }, "")),
    ),
    el("span", { class: "poll-bar-track", "aria-hidden": "true" }, el("span", { class: "poll-bar-fill" })),
  );
}

function structureKey(poll, results, mine) {
  return JSON.stringify([poll.id, poll.kind, poll.options, lang(), Boolean(results && results.hidden), [...mine].sort()]);
}

function respondentsLine(results) {
  return el("p", { class: "poll-respondents" }, tn("polls.respondents", results ? results.respondents || 0 : 0));
}

// Fill `box` with the results of `poll` (null results: none yet). `mine`: the option
// indexes this visitor chose (marked), `showCounts`: false shows only how many answered
// with `note` (a visitor who has not answered yet).
export function renderResults(box, poll, results, { mine = [], showCounts = true, note = null } = {}) {
  const hidden = !results || results.hidden || !showCounts;
  const key = structureKey(poll, results, mine) + JSON.stringify([hidden, note]);
  if (hidden) {
    if (box.dataset.key !== key) {
      box.dataset.key = key;
      box.replaceChildren(
        el("p", { class: "poll-hidden" }, note || t("polls.hidden")),
        respondentsLine(results),
      );
    } else {
      box.querySelector(".poll-respondents").textContent = tn("polls.respondents", results ? results.respondents || 0 : 0);
    }
    box.dataset.shown = "hidden";
    return;
  }
  box.dataset.shown = "results";
  if (poll.kind === "text") {
    box.dataset.key = key;
    box.replaceChildren(el("p", { class: "poll-cloud-title" }, t("polls.cloud")), renderCloud(results.words || []), respondentsLine(results));
    return;
  }
  const labels = labelsOf(poll);
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    const chosen = new Set(mine);
    const parts = [el("ol", { class: "poll-bars", dataset: { kind: poll.kind } }, labels.map((label, i) => barRow(label, i, chosen.has(i))))];
    if (poll.kind === "rating") parts.push(el("p", { class: "poll-average" }));
    box.replaceChildren(...parts, respondentsLine(results));
  }
  const counts = results.counts || [];
  const respondents = results.respondents || 0;
  box.querySelectorAll(".poll-bar").forEach((row, i) => {
    const count = counts[i] || 0;
    const percent = share(count, respondents);
    row.dataset.count = String(count);
    row.querySelector(".poll-bar-count").textContent = String(count);
    row.querySelector(".poll-bar-percent").textContent = `(${fmtPercent(percent)})`;
    row.querySelector(".poll-bar-fill").style.width = `${percent}%`; // CSSOM: allowed by the CSP
  });
  const average = box.querySelector(".poll-average");
  if (average) {
    average.textContent = results.average === null || results.average === undefined ? t("polls.average.none") : t("polls.average", { avg: fmtAverage(results.average) });
  }
  box.querySelector(".poll-respondents").textContent = tn("polls.respondents", respondents);
}
