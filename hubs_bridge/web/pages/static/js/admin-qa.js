// The Q&A of the chosen event: how many questions wait, are open, answered or rejected
// (live, from the questions the stream gives a staff page), the link to the moderator
// console, and the Q&A settings as a form of their own (PATCH /api/events/{event}).

import { announce, clear, el, fmtNumber, t } from "./common.js";
import { clearErrors, formValues, relabelErrors, setValues, showErrors } from "./admin-forms.js";
import { reloadEvents, selectedEvent, staff } from "./admin-state.js";
import { live, onLive } from "./admin-live.js";

const form = document.getElementById("qa-form");
const counts = document.getElementById("qa-counts");
const consoleLink = document.getElementById("qa-console");
const KINDS = ["pending", "open", "answered", "rejected", "from_hubs"];

function kindOf(q) {
  if (q.deleted_at || q.status === "merged") return null;
  if (q.status === "pending") return "pending";
  if (q.status === "rejected") return "rejected";
  return q.answered ? "answered" : "open";
}

export function renderQaCounts() {
  clear(counts);
  const event = selectedEvent();
  if (!event || live.event !== event.slug || live.online === null) {
    counts.append(el("div", {}, el("dt", {}, t("admin.qa.count.total")), el("dd", {}, t("admin.stats.none"))));
    return;
  }
  const n = Object.fromEntries(["total", ...KINDS].map((k) => [k, 0]));
  for (const q of live.questions.values()) {
    const kind = kindOf(q);
    if (!kind) continue;
    n.total += 1;
    n[kind] += 1;
    if (q.source === "hubs") n.from_hubs += 1;
  }
  for (const kind of ["total", ...KINDS]) {
    counts.append(el("div", { dataset: { count: kind } }, el("dt", {}, t(`admin.qa.count.${kind}`)), el("dd", {}, fmtNumber(n[kind]))));
  }
}

// The form shows the event's settings as stored (again after a change elsewhere).
export function renderQa() {
  const event = selectedEvent();
  if (!event) return;
  consoleLink.href = `/m/${encodeURIComponent(event.slug)}`;
  if (form.dataset.failed !== "true") setValues(form, { qa: event.qa });
  renderQaCounts();
}

export function resetQa() {
  clearErrors(form);
}

async function submit(submitEvent) {
  submitEvent.preventDefault();
  const event = selectedEvent();
  if (!event) return;
  const button = document.getElementById("qa-save");
  button.disabled = true;
  try {
    await staff("PATCH", `/api/events/${encodeURIComponent(event.slug)}`, formValues(form));
    clearErrors(form);
    await reloadEvents();
    announce(t("admin.qa.saved"));
  } catch (err) {
    showErrors(form, err);
  } finally {
    button.disabled = false;
  }
}

export function relabelQa() {
  relabelErrors(form);
  renderQaCounts();
}

export function setupQa() {
  form.addEventListener("submit", submit);
  onLive("questions", renderQaCounts);
  onLive("state", renderQaCounts);
}
