// "Ähnliche Fragen – lieber unterstützen?": while a visitor types a question, the
// questions already asked that are like it (core/similar.py on the server), each with a
// button to support it instead of asking again. Texts only ever become text nodes.

import { api, el, t, tn } from "./common.js";

const MIN_CHARS = 12; // fewer characters say too little to compare
const WAIT_MS = 350; // after the last keystroke

let timer = null;
let asked = 0; // answers to older requests are dropped
let shown = [];

export function watchSimilar(textarea, eventSlug, state, onSupport) {
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    const text = textarea.value.trim();
    if ([...text].length < MIN_CHARS) {
      asked += 1;
      show([], state, onSupport);
      return;
    }
    timer = setTimeout(() => lookUp(text, eventSlug, state, onSupport), WAIT_MS);
  });
}

export function clearSimilar(state, onSupport) {
  clearTimeout(timer);
  asked += 1;
  show([], state, onSupport);
}

// Votes changed (or the language): draw the same suggestions again.
export function refreshSimilar(state, onSupport) {
  show(shown, state, onSupport);
}

async function lookUp(text, eventSlug, state, onSupport) {
  const mine = ++asked;
  let found = [];
  try {
    const path = `/api/events/${encodeURIComponent(eventSlug)}/questions/similar?text=${encodeURIComponent(text)}`;
    found = (await api("GET", path)).questions || [];
  } catch (_) {
    found = []; // a suggestion is a help, never an error to show
  }
  if (mine === asked) show(found, state, onSupport);
}

function show(found, state, onSupport) {
  shown = found.filter((q) => state.questions.has(q.id));
  const box = document.getElementById("ask-similar");
  const list = document.getElementById("ask-similar-list");
  list.replaceChildren(
    ...shown.map((q) => {
      const voted = state.voted.has(q.id);
      const votes = state.questions.get(q.id).votes;
      const button = el(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          "aria-pressed": voted ? "true" : "false",
          onclick: () => onSupport(q.id),
        },
        voted ? t("visitor.ask.similar.supported") : t("visitor.ask.similar.support"),
      );
      return el("li", { dataset: { id: q.id } }, el("span", { class: "similar-text" }, q.text), " ",
        el("span", { class: "muted" }, tn("visitor.ask.similar.votes", votes)), " ", button);
    }),
  );
  box.hidden = shown.length === 0;
}
