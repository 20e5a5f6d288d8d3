// Live polls on the visitor page: every open poll of the event between the ask box and the
// questions (so a poll never pushes the ask box off a phone's first screen), with the input of its kind (radio buttons, checkboxes up to N, a rating 1-5,
// a few words), the visitor's own answer preselected, and the results: live bars once
// the visitor has answered (unless the poll hides them until it closes), the final
// result once it has closed. Web visitors may answer every poll of the event, also one
// asked in a room (it says which).
//
// An answer goes through Live's pending frames (sent again with the same client_msg_id
// after a reconnect or a "later"), and is "gezählt" only after the server's ack.

import { announce, el, errorText, lang, t, tn } from "./common.js";
import { TEXT_MAX, answerText, byRecency, renderResults, roomsText, stateBadge } from "./polls-view.js";

const polls = new Map(); // id -> {poll, results}
let answers = {}; // poll id -> {poll, choices, text, held}: this visitor's answers as stored
const nodes = new Map(); // id -> {node, key, form, dirty}
const status = new Map(); // poll id -> {key, values} of the status line (re-translated)
const errors = new Map(); // poll id -> error frame shown under the form
const expanded = new Set(); // closed polls shown with their result (closed while watched, or opened)
let live = null;
let eventOf = () => null;

const $ = (id) => document.getElementById(id);

export function setupPolls(connection, getEvent) {
  live = connection;
  eventOf = getEvent;
}

// The polls of a welcome or snapshot; a resumed session keeps its own (frames follow).
export function setPolls(snapshot, recovered) {
  if (recovered) return renderPolls();
  const data = snapshot || { polls: [], answers: {} };
  polls.clear();
  for (const { poll, results } of data.polls || []) polls.set(poll.id, { poll, results });
  answers = { ...(data.answers || {}) };
  return renderPolls();
}

// A `poll` or `poll_results` frame.
export function applyPollFrame(frame) {
  if (frame.type === "poll") {
    const poll = frame.poll;
    const known = polls.get(poll.id);
    if (poll.hidden) {
      polls.delete(poll.id);
    } else if (!known || !known.poll || known.poll.version <= poll.version) {
      polls.set(poll.id, { poll, results: known ? known.results : null });
      if (poll.state === "open" && (!known || !known.poll || known.poll.state !== "open")) announce(t("polls.visitor.new", { question: poll.question }));
      if (poll.state === "closed" && known && known.poll && known.poll.state === "open") {
        announce(t("polls.visitor.closed_now", { question: poll.question }));
        expanded.add(poll.id); // its final result, for those who were watching it
        status.delete(poll.id);
        errors.delete(poll.id);
      }
    }
  } else if (frame.type === "poll_results") {
    const entry = polls.get(frame.results.poll);
    if (entry) entry.results = frame.results;
    else polls.set(frame.results.poll, { poll: null, results: frame.results }); // its poll follows
  }
  renderPolls();
}

// The language changed: every poll is built again.
export function resetPolls() {
  for (const entry of nodes.values()) entry.key = null;
  renderPolls();
}

// ---- reading and filling a poll's form ----

function readForm(form, poll) {
  if (poll.kind === "text") {
    const text = form.querySelector("input[type=text]").value.trim();
    return { choices: [], text: text || null };
  }
  const choices = [...form.querySelectorAll("input:checked")].map((input) => Number(input.value));
  return { choices, text: null };
}

function fillForm(form, poll, values) {
  if (!values) return;
  if (poll.kind === "text") {
    form.querySelector("input[type=text]").value = values.text || "";
    return;
  }
  const chosen = new Set(values.choices || []);
  for (const input of form.querySelectorAll("input[data-choice]")) input.checked = chosen.has(Number(input.value));
}

// Checkboxes of a multiple-choice poll: once `max_choices` are ticked the others wait.
function limitChoices(form, poll) {
  if (poll.kind !== "multiple") return;
  const boxes = [...form.querySelectorAll("input[data-choice]")];
  const full = boxes.filter((b) => b.checked).length >= poll.max_choices;
  for (const box of boxes) {
    box.disabled = full && !box.checked;
    box.closest("label").classList.toggle("is-disabled", box.disabled);
  }
}

function updateCounter(form) {
  const input = form.querySelector("input[type=text]");
  const counter = form.querySelector(".poll-counter");
  if (input && counter) counter.textContent = t("polls.visitor.counter", { n: [...input.value].length, max: TEXT_MAX });
}

// ---- building a poll ----

function choiceInputs(poll, name, describedBy) {
  if (poll.kind === "text") {
    const id = `${name}-text`;
    return el(
      "div",
      { class: "field poll-text-field" },
      el("label", { for: id }, t("polls.visitor.text_label")),
      el("input", { type: "text", id, name: "text", maxlength: TEXT_MAX, autocomplete: "off", "aria-describedby": `${name}-text-help ${name}-counter ${describedBy}` }),
      el("p", { class: "row poll-text-meta" }, el("span", { id: `${name}-counter`, class: "counter poll-counter" })),
      el("p", { id: `${name}-text-help`, class: "field-help" }, t("polls.visitor.text_help", { max: TEXT_MAX })),
    );
  }
  const type = poll.kind === "multiple" ? "checkbox" : "radio";
  if (poll.kind === "rating") {
    return el(
      "div",
      { class: "poll-rating" },
      [1, 2, 3, 4, 5].map((n) =>
        el(
          "label",
          { class: "poll-rate" },
          el("input", { type, name, value: String(n - 1), dataset: { choice: "1" }, "aria-describedby": describedBy }),
          el("span", { class: "poll-rate-face", "aria-hidden": "true" }, el("span", { class: "poll-star" }, "★"), String(n)),
          el("span", { class: "visually-hidden" }, t("polls.rating.option", { n })),
        ),
      ),
    );
  }
  return el(
    "div",
    { class: "poll-choices" },
    poll.options.map((option, i) =>
      el(
        "label",
        { class: "poll-choice" },
        el("input", { type, name, value: String(i), dataset: { choice: "1" }, "aria-describedby": describedBy }),
        el("span", { class: "poll-choice-text user-text" }, option),
      ),
    ),
  );
}

function helpText(poll) {
  if (poll.kind === "multiple") return tn("polls.visitor.up_to", poll.max_choices);
  if (poll.kind === "single") return t("polls.visitor.choose_one");
  if (poll.kind === "rating") return `${t("polls.visitor.rate")} ${t("polls.rating.low")}, ${t("polls.rating.high")}.`;
  return "";
}

function pollForm(poll) {
  const name = `poll-${poll.id}`;
  const helpId = `${name}-help`;
  const errorId = `${name}-error`;
  const help = helpText(poll);
  const form = el(
    "form",
    { class: "poll-form", novalidate: true, dataset: { poll: poll.id } },
    el(
      "fieldset",
      { class: "poll-fieldset" },
      el("legend", { class: "poll-question user-text" }, poll.question),
      help ? el("p", { id: helpId, class: "field-help poll-help" }, help) : null,
      choiceInputs(poll, name, [help ? helpId : "", errorId].filter(Boolean).join(" ")),
    ),
    el("p", { id: errorId, class: "field-error poll-error", role: "alert" }),
    el(
      "p",
      { class: "row poll-send" },
      el("button", { type: "submit", class: "btn btn-primary poll-submit" }, t("polls.visitor.submit")),
      el("span", { class: "poll-status", role: "status" }),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(poll.id);
  });
  form.addEventListener("change", () => {
    nodes.get(poll.id).dirty = true;
    limitChoices(form, poll);
  });
  form.addEventListener("input", () => {
    nodes.get(poll.id).dirty = true;
    updateCounter(form);
  });
  return form;
}

function pollNode(entry) {
  const { poll } = entry;
  const event = eventOf();
  const head = el(
    "span",
    { class: "poll-badges" },
    stateBadge(poll),
    poll.state === "closed" ? el("span", { class: "badge poll-final" }, t("polls.final")) : null,
    poll.rooms && poll.rooms.length ? el("span", { class: "poll-rooms" }, roomsText(poll, event)) : null,
  );
  const attrs = { class: `poll card poll-${poll.state}`, dataset: { id: poll.id, state: poll.state, kind: poll.kind } };
  if (poll.state === "open") return el("li", attrs, head, pollForm(poll), el("div", { class: "poll-results" }));
  // A closed poll is a one-line card (its question, the visitor's answer) that opens to its
  // final result, so finished polls never push the questions down.
  const details = el(
    "details",
    { class: "poll-details", open: expanded.has(poll.id) },
    el(
      "summary",
      { class: "poll-summary" },
      head,
      el("span", { class: "poll-question user-text" }, poll.question),
      el("span", { class: "poll-mine muted" }),
    ),
    el("div", { class: "poll-results" }),
  );
  details.addEventListener("toggle", () => {
    if (details.open) expanded.add(poll.id);
    else expanded.delete(poll.id);
  });
  return el("li", attrs, details);
}

// ---- rendering ----

function keyOf(entry) {
  return JSON.stringify([entry.poll.version, entry.poll.state, lang()]);
}

function renderStatus(id, node) {
  const form = node.querySelector(".poll-form");
  if (!form) return;
  const pending = live && live.answering(id);
  const button = form.querySelector(".poll-submit");
  button.textContent = t(answers[id] ? "polls.visitor.change" : "polls.visitor.submit");
  // aria-disabled, not disabled: the button keeps its focus while the answer is on its way.
  if (pending) button.setAttribute("aria-disabled", "true");
  else button.removeAttribute("aria-disabled");
  const line = status.get(id);
  const text = line ? line.keys.map((key) => t(key)).join(" ") : "";
  const box = form.querySelector(".poll-status");
  if (box.textContent !== text) box.textContent = text;
  const err = errors.get(id);
  const errorBox = form.querySelector(".poll-error");
  const message = err ? (err.key ? t(err.key) : errorText(err)) : "";
  if (errorBox.textContent !== message) errorBox.textContent = message;
}

function renderOne(entry, item) {
  const { poll, results } = entry;
  const mine = answers[poll.id];
  const box = item.node.querySelector(".poll-results");
  if (poll.state === "closed") {
    renderResults(box, poll, results, { mine: mine ? mine.choices : [] });
    const line = item.node.querySelector(".poll-mine");
    line.textContent = mine ? t("polls.visitor.your_answer", { answer: answerText(poll, mine) }) : "";
    line.hidden = !mine;
    return;
  }
  // Open: the bars once this visitor has answered (their answer is not swayed by them).
  renderResults(box, poll, results, {
    mine: mine ? mine.choices : [],
    showCounts: Boolean(mine),
    note: results && results.hidden ? null : t("polls.visitor.results_after"),
  });
  renderStatus(poll.id, item.node);
}

export function renderPolls() {
  const list = $("polls");
  if (!list) return;
  const wanted = [...polls.values()].filter((e) => e.poll && e.poll.state !== "draft").sort((a, b) => byRecency(a.poll, b.poll));
  const seen = new Set();
  wanted.forEach((entry, index) => {
    const id = entry.poll.id;
    seen.add(id);
    const key = keyOf(entry);
    let item = nodes.get(id);
    if (!item || item.key !== key) {
      const node = pollNode(entry);
      const before = item && item.node.querySelector(".poll-form");
      const form = node.querySelector(".poll-form");
      const next = { node, key, dirty: Boolean(item && item.dirty && before && form) };
      nodes.set(id, next);
      if (form) {
        // What the visitor is choosing stays; else their stored answer is preselected.
        fillForm(form, entry.poll, next.dirty ? readForm(before, entry.poll) : answers[id]);
        limitChoices(form, entry.poll);
        updateCounter(form);
      }
      const hadFocus = item && item.node.contains(document.activeElement);
      if (item) item.node.replaceWith(node);
      item = next;
      if (hadFocus) node.querySelector(".poll-submit, summary")?.focus?.();
    }
    if (list.children[index] !== item.node) list.insertBefore(item.node, list.children[index] || null);
    renderOne(entry, item);
  });
  for (const [id, item] of nodes) {
    if (!seen.has(id)) {
      item.node.remove();
      nodes.delete(id);
    }
  }
  $("polls-section").hidden = wanted.length === 0;
}

// ---- answering ----

function submit(id) {
  const entry = polls.get(id);
  const item = nodes.get(id);
  if (!entry || !item || entry.poll.state !== "open" || !live) return;
  if (live.answering(id)) return; // one answer on its way at a time: the ack decides
  const form = item.node.querySelector(".poll-form");
  const values = readForm(form, entry.poll);
  errors.delete(id);
  if (entry.poll.kind === "text" ? !values.text : !values.choices.length) {
    errors.set(id, { key: entry.poll.kind === "text" ? "polls.error.text_required" : "polls.visitor.nothing_chosen" });
    status.delete(id);
    renderPolls();
    form.querySelector("input")?.focus();
    return;
  }
  status.set(id, { keys: [live.connected ? "polls.visitor.sending" : "polls.visitor.queued"] });
  const sent = live.answerPoll(id, values, {
    onRetry() {
      status.set(id, { keys: ["polls.visitor.later"] });
      renderPolls();
    },
  });
  renderPolls();
  sent
    .then((ack) => {
      if (ack && ack.answer) answers[id] = ack.answer;
      const current = nodes.get(id);
      if (current) current.dirty = false;
      const held = ack && ack.answer && ack.answer.held;
      // Said by the status line (role=status), so no announce() on top of it.
      status.set(id, { keys: held ? ["polls.visitor.held"] : ["polls.visitor.counted", "polls.visitor.can_change"] });
    })
    .catch((err) => {
      status.delete(id);
      errors.set(id, err);
    })
    .finally(renderPolls);
}
