// Polls in the moderator console: the draft form (moderator-poll-form.js), the list of
// polls with their state and actions (open, close, edit a draft, delete after a
// confirmation), live results from `poll_results` frames, the free texts the word filter
// holds (allow or discard), and the exports (CSV, JSON).
//
// Drafting and the actions go over HTTP with the console's token; the stream brings what
// other moderators do. Poll texts are people's text: only ever text nodes.

import { announce, api, el, errorText, lang, t, tn } from "./common.js";
import { byRecency, renderResults, roomsText, stateBadge } from "./polls-view.js";
import { editDraft, editingId, refreshPollForm, resetForm, setupPollForm } from "./moderator-poll-form.js";
import { onRender, render, state } from "./moderator-state.js";

const $ = (id) => document.getElementById(id);

const polls = new Map(); // id -> {poll, results}
const nodes = new Map(); // id -> {node, key}
const busy = new Set(); // poll ids with an action on its way
const problems = new Map(); // poll id -> error of its last action (shown at the poll)
const held = new Map(); // poll id -> {count, answers: [{id, text, at}]}

function base() {
  return `/api/events/${encodeURIComponent(state.event)}/polls`;
}

// ---- state from the stream ----

export function setModPolls(snapshot, recovered) {
  if (recovered) return;
  polls.clear();
  for (const { poll, results } of (snapshot && snapshot.polls) || []) polls.set(poll.id, { poll, results });
}

export function resetModPolls() {
  polls.clear();
  held.clear();
  problems.clear();
  busy.clear();
  if (editingId()) resetForm();
}

function upsertPoll(poll, results) {
  const known = polls.get(poll.id);
  if (known && known.poll && known.poll.version > poll.version) return;
  polls.set(poll.id, { poll, results: results !== undefined ? results : known ? known.results : null });
}

export function applyModPollFrame(frame) {
  if (frame.type === "poll") {
    if (frame.poll.hidden) {
      polls.delete(frame.poll.id);
      if (editingId() === frame.poll.id) resetForm();
    } else {
      upsertPoll(frame.poll);
      if (editingId() === frame.poll.id && frame.poll.state !== "draft") resetForm(); // opened elsewhere
    }
  } else if (frame.type === "poll_results") {
    const known = polls.get(frame.results.poll);
    if (known) known.results = frame.results;
    else polls.set(frame.results.poll, { poll: null, results: frame.results });
  }
  render("polls");
}

// ---- actions on a poll ----

const ACTIONS = {
  open: { method: "POST", path: "/open", done: "polls.mod.opened" },
  close: { method: "POST", path: "/close", done: "polls.mod.closed" },
};

async function act(id, action) {
  if (busy.has(id) || !state.token) return;
  busy.add(id);
  problems.delete(id);
  render("polls");
  try {
    if (action === "delete") {
      await api("DELETE", `${base()}/${encodeURIComponent(id)}`, { token: state.token });
      polls.delete(id);
      held.delete(id);
      if (editingId() === id) resetForm();
      announce(t("polls.mod.deleted"));
      $("poll-list-title").focus();
    } else {
      const step = ACTIONS[action];
      const out = await api(step.method, `${base()}/${encodeURIComponent(id)}${step.path}`, { token: state.token });
      upsertPoll(out.poll, out.results);
      announce(t(step.done));
    }
  } catch (err) {
    problems.set(id, err);
    announce(errorText(err));
  } finally {
    busy.delete(id);
    render("polls");
  }
}

let confirming = null;

function confirmDelete(id) {
  const entry = polls.get(id);
  if (!entry) return;
  confirming = id;
  $("poll-dialog-question").textContent = entry.poll.question;
  $("poll-dialog").showModal();
  $("poll-dialog-cancel").focus();
}

function closeDialog(confirmed) {
  const id = confirming;
  confirming = null;
  if ($("poll-dialog").open) $("poll-dialog").close();
  if (!id) return;
  if (confirmed) act(id, "delete");
  else nodes.get(id)?.node.querySelector('[data-poll-action="delete"]')?.focus();
}

// ---- held free texts ----

async function loadHeld(id) {
  try {
    const data = await api("GET", `${base()}/${encodeURIComponent(id)}/held`, { token: state.token });
    const entry = held.get(id);
    if (entry) entry.answers = data.answers || [];
  } catch (_) {
    /* shown again with the next results */
  }
  render("polls");
}

async function judge(id, answer, keep) {
  const entry = held.get(id);
  try {
    await api("POST", `${base()}/${encodeURIComponent(id)}/held/${encodeURIComponent(answer.id)}`, { token: state.token, body: { keep, text: answer.text } });
    if (entry) entry.answers = entry.answers.filter((a) => a.id !== answer.id);
    announce(t(keep ? "polls.mod.kept" : "polls.mod.dropped"));
  } catch (err) {
    problems.set(id, err);
  }
  render("polls");
  loadHeld(id);
}

function syncHeld(entry) {
  const id = entry.poll.id;
  const count = (entry.results && entry.results.held) || 0;
  const known = held.get(id);
  if (!count) {
    held.delete(id);
    return;
  }
  if (!known || known.count !== count) {
    held.set(id, { count, answers: known ? known.answers : [] });
    loadHeld(id);
  }
}

function renderHeld(entry, node) {
  const box = node.querySelector(".mod-poll-held");
  const info = held.get(entry.poll.id);
  if (!info) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const key = JSON.stringify([info.count, info.answers.map((a) => a.id), lang()]);
  box.hidden = false;
  if (box.dataset.key === key) return;
  const focused = box.contains(document.activeElement);
  box.dataset.key = key;
  box.replaceChildren(
    el("p", { class: "mod-poll-held-title" }, tn("polls.mod.held", info.count)),
    el("p", { class: "field-help" }, t("polls.mod.held_help")),
    el(
      "ul",
      { class: "list mod-held-list" },
      info.answers.map((a) =>
        el(
          "li",
          { class: "mod-held", dataset: { id: a.id } },
          el("span", { class: "mod-held-text user-text" }, a.text || ""),
          el(
            "span",
            { class: "row mod-held-actions" },
            el("button", { type: "button", class: "btn btn-small", "aria-label": t("polls.mod.keep_label", { text: a.text || "" }), onclick: () => judge(entry.poll.id, a, true) }, t("polls.mod.keep")),
            el("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": t("polls.mod.drop_label", { text: a.text || "" }), onclick: () => judge(entry.poll.id, a, false) }, t("polls.mod.drop")),
          ),
        ),
      ),
    ),
  );
  if (focused) (box.querySelector("button") || node.querySelector(".mod-poll-question")).focus();
}

// ---- the list ----

function actionButtons(poll) {
  const buttons = [];
  const button = (action, key, cls = "btn btn-small") => el("button", { type: "button", class: cls, dataset: { pollAction: action } }, t(key));
  if (poll.state === "draft") {
    buttons.push(button("open", "polls.mod.open", "btn btn-small btn-primary"), button("edit", "polls.mod.edit"));
  }
  if (poll.state === "open") buttons.push(button("close", "polls.mod.close", "btn btn-small btn-primary"));
  buttons.push(button("delete", "polls.mod.delete", "btn btn-small btn-danger"));
  return buttons;
}

function pollNode(entry) {
  const { poll } = entry;
  const error = problems.get(poll.id);
  return el(
    "li",
    { class: `mod-poll mod-poll-${poll.state}`, dataset: { id: poll.id, state: poll.state, kind: poll.kind } },
    el(
      "p",
      { class: "poll-badges" },
      stateBadge(poll),
      el("span", { class: "badge mod-poll-kind" }, t(`polls.kind.${poll.kind}`)),
      el("span", { class: "poll-rooms" }, roomsText(poll, state.eventData)),
    ),
    el("p", { class: "mod-poll-question user-text", tabindex: "-1" }, poll.question),
    poll.hide_results && poll.state !== "closed" ? el("p", { class: "field-help mod-poll-hidden-note" }, t("polls.mod.hidden_note")) : null,
    el("p", { class: "row mod-poll-actions" }, actionButtons(poll)),
    el("p", { class: "field-error mod-poll-error", role: "alert" }, error ? errorText(error) : ""),
    poll.state === "draft" ? null : el("div", { class: "poll-results" }),
    el("div", { class: "mod-poll-held", hidden: true }),
  );
}

function keyOf(entry) {
  const error = problems.get(entry.poll.id);
  return JSON.stringify([entry.poll.version, entry.poll.state, lang(), error ? error.code : null, roomsText(entry.poll, state.eventData)]);
}

export function renderModPolls() {
  refreshPollForm();
  const list = $("poll-admin-list");
  const wanted = [...polls.values()].filter((e) => e.poll).sort((a, b) => byRecency(a.poll, b.poll));
  const seen = new Set();
  wanted.forEach((entry, index) => {
    const id = entry.poll.id;
    seen.add(id);
    const key = keyOf(entry);
    let item = nodes.get(id);
    if (!item || item.key !== key) {
      const active = document.activeElement;
      const had = item && item.node.contains(active) ? active.dataset.pollAction || "question" : null;
      const node = pollNode(entry);
      if (item) item.node.replaceWith(node);
      item = { node, key };
      nodes.set(id, item);
      if (had) (node.querySelector(`[data-poll-action="${had}"]`) || node.querySelector("[data-poll-action]") || node.querySelector(".mod-poll-question")).focus();
    }
    if (list.children[index] !== item.node) list.insertBefore(item.node, list.children[index] || null);
    for (const button of item.node.querySelectorAll("[data-poll-action]")) {
      if (busy.has(id)) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    }
    const results = item.node.querySelector(".poll-results");
    if (results) renderResults(results, entry.poll, entry.results);
    if (entry.poll.kind === "text") syncHeld(entry);
    renderHeld(entry, item.node);
  });
  for (const [id, item] of nodes) {
    if (!seen.has(id)) {
      item.node.remove();
      nodes.delete(id);
    }
  }
  $("poll-admin-empty").hidden = wanted.length > 0;
}

// ---- exports ----

async function download(kind) {
  const status = $("poll-export-status");
  status.textContent = "";
  try {
    const response = await fetch(`${base()}.${kind}`, { headers: { Authorization: `Bearer ${state.token}` }, credentials: "same-origin" });
    if (!response.ok) {
      let body = {};
      try {
        body = await response.json();
      } catch (_) {
        body = {};
      }
      throw { code: body.code || `http_${response.status}` };
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `${state.event}-polls.${kind}`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = t("polls.mod.exported");
  } catch (err) {
    status.textContent = errorText(err);
  }
}

// ---- wiring ----

export function setupModPolls() {
  onRender("polls", renderModPolls);
  setupPollForm({
    onSaved(out) {
      upsertPoll(out.poll, out.results);
      render("polls");
    },
    onCancel(id) {
      nodes.get(id)?.node.querySelector('[data-poll-action="edit"]')?.focus();
    },
  });
  $("poll-admin-list").addEventListener("click", (event) => {
    const button = event.target.closest("[data-poll-action]");
    const item = button && button.closest("li.mod-poll");
    if (!item || button.getAttribute("aria-disabled") === "true") return;
    const action = button.dataset.pollAction;
    if (action === "edit") editDraft(polls.get(item.dataset.id)?.poll);
    else if (action === "delete") confirmDelete(item.dataset.id);
    else act(item.dataset.id, action);
  });
  $("poll-dialog-confirm").addEventListener("click", () => closeDialog(true));
  $("poll-dialog-cancel").addEventListener("click", () => closeDialog(false));
  $("poll-dialog").addEventListener("cancel", (event) => {
    event.preventDefault();
    closeDialog(false);
  });
  // The console's shortcuts (j, k, a ...) are for the queue, not for this dialog.
  $("poll-dialog").addEventListener("keydown", (event) => event.stopPropagation());
  $("poll-export-csv").addEventListener("click", () => download("csv"));
  $("poll-export-json").addEventListener("click", () => download("json"));
}
