// The "Details" section of the chosen event: what it is (short name, state, titles,
// descriptions, rooms) and a button to change it in the event form.

import { clear, el, t, tn } from "./common.js";
import { PHASE_BADGE, openForm, phaseOf } from "./admin-events.js";
import { selectedEvent } from "./admin-state.js";

const facts = document.getElementById("detail-facts");

function fact(key, ...value) {
  return el("div", { dataset: { fact: key } }, el("dt", {}, t(`admin.details.${key}`)), el("dd", { class: "user-text" }, ...value));
}

export function renderFacts() {
  const event = selectedEvent();
  clear(facts);
  if (!event) return;
  const phase = phaseOf(event);
  const none = el("span", { class: "muted" }, t("admin.stats.none"));
  facts.append(
    fact("slug", el("code", {}, event.slug)),
    fact("phase", el("span", { class: `badge ${PHASE_BADGE[phase]}` }, t(`common.phase.${phase}`))),
    fact("rooms", tn("admin.events.rooms", event.rooms.length)),
    fact("title_en", event.title_en || none.cloneNode(true)),
    fact("description", event.description || none.cloneNode(true)),
    fact("description_en", event.description_en || none.cloneNode(true)),
  );
}

export function setupDetails() {
  document.getElementById("detail-edit").addEventListener("click", () => {
    const event = selectedEvent();
    if (event) openForm(event);
  });
}
