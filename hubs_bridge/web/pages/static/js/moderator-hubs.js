// The people in the event's Hubs rooms (polled), with mute and kick where the bridge owns
// the room: a confirmation, then POST; the bridging process carries it out and its result
// comes back in /hubs (actions), shown at the person and read out.

import { announce, api, el, errorText, t } from "./common.js";
import { onRender, render, roomTitle, state } from "./moderator-state.js";

const $ = (id) => document.getElementById(id);
const PEOPLE_MS = 3000;
const RESULT_MS = 1000;
const RESULT_TRIES = 20;

let people = null; // null: unknown
let shown;
let timer = null;
const pending = new Map(); // session -> {text, ok}: the last action's outcome at that person

const WHY = ["not_joined", "no_account", "account_refused", "not_owner"];

// Why the bridge may not act in a person's room, in the page's language where known.
function whyNot(p) {
  if (WHY.includes(p.why_not_code)) return t(`moderator.hubs.why.${p.why_not_code}`);
  return p.why_not || t("moderator.hubs.not_owner");
}

function personLine(p) {
  const label = p.name || t("moderator.hands.no_name");
  const actions = ["mute", "kick"].map((action) =>
    el(
      "button",
      {
        type: "button",
        class: action === "kick" ? "btn btn-small btn-danger" : "btn btn-small",
        dataset: { session: p.session, action, name: label },
        disabled: !p.may_moderate,
        title: p.may_moderate ? null : whyNot(p),
        "aria-label": t(`moderator.hubs.${action}_who`, { name: label }),
      },
      t(`moderator.hubs.${action}`),
    ),
  );
  const outcome = pending.get(p.session);
  return el(
    "li",
    { class: "hubs-person", dataset: { session: p.session } },
    el(
      "span",
      { class: "hubs-person-who" },
      p.hand_raised ? el("span", { class: "badge badge-warn hand-mark" }, t("moderator.hubs.hand")) : null,
      p.hand_raised ? " " : null,
      el("strong", {}, label),
      " · ",
      roomTitle(p.room),
      " · ",
      t(`moderator.where.${["room", "lobby", "entering"].includes(p.where) ? p.where : "room"}`),
    ),
    el("span", { class: "hubs-person-actions" }, ...actions),
    outcome ? el("span", { class: outcome.ok ? "hubs-outcome ok" : "hubs-outcome failed", role: "status" }, outcome.text) : null,
  );
}

function renderPeople() {
  const box = $("hubs-people");
  if (!box) return;
  if (people === null) {
    box.replaceChildren(el("p", { class: "muted" }, t("moderator.hands.unknown")));
    return;
  }
  if (!people.length) {
    box.replaceChildren(el("p", { class: "muted" }, t("moderator.hubs.nobody")));
    return;
  }
  const owned = people.some((p) => p.may_moderate);
  box.replaceChildren(
    ...(owned ? [] : [el("p", { class: "field-help" }, whyNot(people[0]))]),
    el("ul", { class: "list hubs-people-list" }, people.map(personLine)),
  );
}

async function poll() {
  if (!state.token) return;
  let next;
  try {
    const data = await api("GET", `/api/events/${encodeURIComponent(state.event)}/hubs/people`, { token: state.token });
    next = data && Array.isArray(data.people) ? data.people : null;
  } catch (_) {
    next = null;
  }
  if (!state.token) return;
  const key = JSON.stringify([next, [...pending]]);
  people = next;
  if (key === shown) return;
  shown = key;
  render("hubs-people");
}

function setOutcome(session, text, ok) {
  pending.set(session, { text, ok });
  shown = undefined;
  render("hubs-people");
  announce(text);
}

async function awaitResult(session, id, action, name) {
  for (let i = 0; i < RESULT_TRIES; i++) {
    await new Promise((resolve) => setTimeout(resolve, RESULT_MS));
    let data;
    try {
      data = await api("GET", `/api/events/${encodeURIComponent(state.event)}/hubs`, { token: state.token });
    } catch (_) {
      continue;
    }
    const result = data && Array.isArray(data.actions) ? data.actions.find((a) => a.id === id) : null;
    if (result) {
      const text = result.ok ? t(`moderator.hubs.${action}_done`, { name }) : t("moderator.hubs.failed", { name, reason: result.message });
      setOutcome(session, text, result.ok);
      return;
    }
  }
  setOutcome(session, t("moderator.hubs.unknown_outcome", { name }), false);
}

async function act(button) {
  const { session, action, name } = button.dataset;
  if (!window.confirm(t(`moderator.hubs.${action}_confirm`, { name }))) return;
  button.disabled = true;
  try {
    const path = `/api/events/${encodeURIComponent(state.event)}/hubs/people/${encodeURIComponent(session)}/${action}`;
    const accepted = await api("POST", path, { token: state.token });
    setOutcome(session, t("moderator.hubs.sent", { name }), true);
    awaitResult(session, accepted.id, action, name);
  } catch (err) {
    setOutcome(session, t("moderator.hubs.failed", { name, reason: errorText(err) }), false);
  } finally {
    button.disabled = false;
  }
}

export function startHubsPeople() {
  stopHubsPeople();
  poll();
  timer = setInterval(poll, PEOPLE_MS);
}

export function stopHubsPeople() {
  clearInterval(timer);
  timer = null;
  people = null;
  shown = undefined;
  pending.clear();
}

export function setupHubsPeople() {
  onRender("hubs-people", renderPeople);
  $("hubs-people").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) act(button);
  });
}
