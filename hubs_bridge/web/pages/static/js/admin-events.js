// Events: the list, the form to create or change one, and deleting with a confirmation.

import { announce, clear, el, errorText, fmtDateTime, localized, t, tn } from "./common.js";
import { confirmDelete } from "./admin-dialog.js";
import { clearErrors, formValues, relabelErrors, setValues, showErrors } from "./admin-forms.js";
import { berlinLocalToIso, isoToBerlinLocal } from "./admin-time.js";
import { reloadEvents, staff, state } from "./admin-state.js";

const list = document.getElementById("events");
const section = document.getElementById("event-form-section");
const form = document.getElementById("event-form");
const heading = document.getElementById("event-form-heading");
const slugInput = document.getElementById("ev-slug");
const listError = document.getElementById("events-error");
let editing = null; // slug of the event in the form, null when creating
let onOpen = () => {};

const OPTIONAL = ["title_en", "description_en"];

export function phaseOf(event, now = Date.now()) {
  const doors = new Date(event.starts_at).getTime() - event.doors_open_minutes * 60000;
  if (now < doors) return "scheduled";
  return now < new Date(event.ends_at).getTime() ? "open" : "ended";
}

export const PHASE_BADGE = { scheduled: "badge-info", open: "badge-ok", ended: "badge-warn" };

export function whenText(event) {
  const short = { dateStyle: "medium", timeStyle: "short" };
  return t("admin.events.when", {
    start: fmtDateTime(event.starts_at, short),
    end: fmtDateTime(event.ends_at, short),
    doors: event.doors_open_minutes,
  });
}

export function renderEvents() {
  clear(list);
  document.getElementById("events-empty").hidden = state.events.length > 0;
  for (const event of state.events) {
    const title = localized(event, "title");
    const phase = phaseOf(event);
    const open = el("button", { type: "button", class: "btn btn-small event-open", "aria-label": t("admin.events.open_label", { title }), "aria-controls": "event-detail" }, t("admin.events.open"));
    const edit = el("button", { type: "button", class: "btn btn-small event-edit", "aria-label": t("admin.events.edit_label", { title }) }, t("admin.edit"));
    const del = el("button", { type: "button", class: "btn btn-small btn-danger event-delete", "aria-label": t("admin.events.delete_label", { title }) }, t("admin.delete"));
    open.addEventListener("click", () => onOpen(event.slug));
    edit.addEventListener("click", () => openForm(event));
    del.addEventListener("click", () => deleteEvent(event, del));
    list.append(
      el(
        "li",
        { dataset: { event: event.slug }, class: state.selected === event.slug ? "event-item is-selected" : "event-item" },
        el("div", { class: "event-head" }, el("strong", { class: "event-title" }, title), " ", el("span", { class: `badge ${PHASE_BADGE[phase]}` }, t(`common.phase.${phase}`))),
        el("p", { class: "muted event-when" }, whenText(event), " · ", tn("admin.events.rooms", event.rooms.length), " · ", el("code", {}, event.slug)),
        el("div", { class: "row" }, open, edit, del),
      ),
    );
  }
}

function defaults() {
  // A new event: tomorrow 18:00 to 20:00 Berlin time.
  const tomorrow = new Date(Date.now() + 86400000);
  const day = isoToBerlinLocal(tomorrow.toISOString()).slice(0, 10);
  return {
    slug: "",
    title: "",
    title_en: "",
    description: "",
    description_en: "",
    starts_at: `${day}T18:00`,
    ends_at: `${day}T20:00`,
    doors_open_minutes: 15,
    qa: { premoderation: false, max_question_chars: 500, allow_names: true },
  };
}

function setHeading() {
  const event = editing && state.events.find((e) => e.slug === editing);
  heading.textContent = event ? t("admin.events.edit_heading", { title: localized(event, "title") }) : t("admin.events.create_heading");
}

export function openForm(event) {
  editing = event ? event.slug : null;
  clearErrors(form);
  const values = event ? { ...event, starts_at: isoToBerlinLocal(event.starts_at), ends_at: isoToBerlinLocal(event.ends_at) } : defaults();
  setValues(form, values);
  slugInput.readOnly = Boolean(event);
  setHeading();
  section.hidden = false;
  heading.focus();
}

function closeForm() {
  section.hidden = true;
  editing = null;
  document.getElementById("event-new").focus();
}

function bodyOf() {
  const values = formValues(form, { optional: OPTIONAL });
  values.starts_at = berlinLocalToIso(values.starts_at);
  values.ends_at = berlinLocalToIso(values.ends_at);
  for (const [key, value] of Object.entries(values)) if (value === null && !editing) delete values[key];
  for (const [key, value] of Object.entries(values.qa)) if (value === null) delete values.qa[key];
  if (editing) delete values.slug;
  return values;
}

async function submit(submitEvent) {
  submitEvent.preventDefault();
  const body = bodyOf();
  const button = document.getElementById("event-save");
  button.disabled = true;
  try {
    const saved = editing ? await staff("PATCH", `/api/events/${encodeURIComponent(editing)}`, body) : await staff("POST", "/api/events", body);
    const created = !editing;
    clearErrors(form);
    section.hidden = true;
    editing = null;
    await reloadEvents();
    announce(created ? t("admin.events.created") : t("admin.saved"));
    if (created) onOpen(saved.slug, { section: "rooms" }); // the next step: its rooms
    else list.querySelector(`li[data-event="${CSS.escape(saved.slug)}"] .event-edit`)?.focus();
  } catch (err) {
    showErrors(form, err);
  } finally {
    button.disabled = false;
  }
}

export async function deleteEvent(event, opener) {
  const title = localized(event, "title");
  const ok = await confirmDelete({ title: t("admin.events.delete_title"), text: t("admin.events.delete_text", { title, slug: event.slug }), opener });
  if (!ok) return;
  listError.hidden = true;
  try {
    await staff("DELETE", `/api/events/${encodeURIComponent(event.slug)}`);
    if (state.selected === event.slug) state.selected = null;
    await reloadEvents();
    announce(t("admin.deleted"));
    document.getElementById("event-new").focus();
  } catch (err) {
    // Seen (role="alert" is heard too) next to the list, not only spoken.
    listError.message = () => t("admin.events.delete_failed", { title: localized(event, "title"), reason: errorText(err) });
    listError.textContent = listError.message();
    listError.hidden = false;
    if (err.status === 404) {
      // Gone already (someone else deleted it): show the list as it is now.
      await reloadEvents().catch(() => {});
      document.getElementById("event-new").focus();
    }
  }
}

export function setupEvents({ open }) {
  onOpen = open;
  document.getElementById("event-new").addEventListener("click", () => openForm(null));
  document.getElementById("event-cancel").addEventListener("click", closeForm);
  form.addEventListener("submit", submit);
}

export function relabelEventForm() {
  if (!section.hidden) setHeading();
  if (!section.hidden) relabelErrors(form);
  if (!listError.hidden && listError.message) listError.textContent = listError.message();
}
