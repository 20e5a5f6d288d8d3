// The draft form of the console's polls: question, kind, options (added and removed),
// how many choices, rooms, hidden results. Saved over HTTP (a new draft, or a draft
// rewritten); every field problem the server names is shown at its field at once
// (aria-invalid, aria-describedby), the rest at the top, and focus goes to the first.

import { api, el, errorText, lang, t } from "./common.js";
import { rooms, roomTitle, state } from "./moderator-state.js";

const $ = (id) => document.getElementById(id);
const CHOICE_KINDS = new Set(["single", "multiple"]);
const MAX_OPTIONS = 10;
let editing = null; // the id of the draft in the form, or null for a new poll
let roomsKey = null;
let optionsLang = null;
let saved = () => {};

function base() {
  return `/api/events/${encodeURIComponent(state.event)}/polls`;
}

// The id of the draft being rewritten (null: the form makes a new one).
export function editingId() {
  return editing;
}

function optionRow(value, index, total) {
  const id = `poll-option-${index}`;
  return el(
    "li",
    { class: "poll-option-row" },
    el("label", { for: id, class: "visually-hidden" }, t("polls.mod.option", { n: index + 1 })),
    el("input", { type: "text", id, name: `options.${index}`, value, maxlength: 80, autocomplete: "off", placeholder: t("polls.mod.option", { n: index + 1 }) }),
    el(
      "button",
      {
        type: "button",
        class: "btn btn-small poll-option-remove",
        dataset: { index: String(index) },
        "aria-label": t("polls.mod.option_remove_label", { n: index + 1 }),
        disabled: total <= 2,
      },
      t("polls.mod.option_remove"),
    ),
  );
}

function optionValues() {
  return [...document.querySelectorAll("#poll-options input")].map((input) => input.value);
}

function renderOptions(values) {
  const list = values.length ? values : ["", ""];
  $("poll-options").replaceChildren(...list.map((v, i) => optionRow(v, i, list.length)));
  $("poll-option-add").disabled = list.length >= MAX_OPTIONS;
}

function renderKind() {
  const kind = $("poll-kind").value;
  $("poll-options-field").hidden = !CHOICE_KINDS.has(kind);
  $("poll-max-field").hidden = kind !== "multiple";
}

function renderRoomBoxes() {
  const key = JSON.stringify([rooms().map((r) => [r.slug, r.title, r.title_en]), lang()]);
  if (key === roomsKey) return;
  roomsKey = key;
  const box = $("poll-rooms");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren(
    ...rooms().map((room) =>
      el("label", { class: "checkbox" }, el("input", { type: "checkbox", name: "rooms", value: room.slug, checked: checked.has(room.slug) }), roomTitle(room.slug)),
    ),
  );
}

function formBody() {
  const kind = $("poll-kind").value;
  const choice = CHOICE_KINDS.has(kind);
  // Empty option rows are skipped; `sent` maps what is sent back to its row.
  const inputs = [...document.querySelectorAll("#poll-options input")];
  const sent = choice ? inputs.filter((input) => input.value.trim()) : [];
  const chosenRooms = [...document.querySelectorAll('#poll-rooms input[name="rooms"]:checked')].map((i) => i.value);
  const max = $("poll-max").value.trim();
  return {
    body: {
      question: $("poll-question").value,
      kind,
      options: sent.map((input) => input.value.trim()),
      max_choices: kind === "multiple" ? (max === "" ? 0 : Number(max)) : 1,
      rooms: chosenRooms.length ? chosenRooms : null,
      hide_results: $("poll-hide").checked,
    },
    sent,
  };
}

function setFormTitle() {
  const key = editing ? "polls.mod.edit_title" : "polls.mod.new";
  $("poll-form-title").dataset.i18n = key;
  $("poll-form-title").textContent = t(key);
  const save = editing ? "polls.mod.save_changes" : "polls.mod.save";
  $("poll-save").dataset.i18n = save;
  $("poll-save").textContent = t(save);
  $("poll-cancel").hidden = !editing;
}

export function resetForm() {
  editing = null;
  $("poll-form").reset();
  for (const box of document.querySelectorAll('#poll-rooms input[name="rooms"]')) box.checked = false;
  renderOptions([]);
  renderKind();
  clearErrors();
  setFormTitle();
}

export function editDraft(poll) {
  if (!poll || poll.state !== "draft") return;
  editing = poll.id;
  clearErrors();
  $("poll-question").value = poll.question;
  $("poll-kind").value = poll.kind;
  renderOptions(poll.options);
  $("poll-max").value = String(poll.max_choices);
  const chosen = new Set(poll.rooms || []);
  for (const box of document.querySelectorAll('#poll-rooms input[name="rooms"]')) box.checked = chosen.has(box.value);
  $("poll-hide").checked = poll.hide_results;
  renderKind();
  setFormTitle();
  $("poll-form").scrollIntoView({ block: "start" });
  $("poll-question").focus();
}

// ---- field errors ----

const FIELD_OF_CODE = {
  options_count: "options",
  options_repeat: "options",
  options_not_allowed: "options",
  max_choices_out_of_range: "max_choices",
  unknown_room: "rooms",
  unknown_kind: "kind",
};

const TYPE_KEYS = {
  missing: "polls.error.missing",
  string_too_short: "polls.error.missing",
  greater_than_equal: "polls.error.range",
  less_than_equal: "polls.error.range",
  int_parsing: "polls.error.number",
  int_type: "polls.error.number",
  int_from_float: "polls.error.number",
};

function detailText(detail, err) {
  const type = detail.type || "";
  if (type === "text_too_long") return t("common.error.text_too_long", { max: err.max_chars ?? "" });
  if (type.startsWith("text_")) return errorText({ code: type });
  if (TYPE_KEYS[type]) return t(TYPE_KEYS[type]);
  const own = `polls.error.${type}`;
  if (t(own) !== own) return t(own);
  return t("polls.error.invalid", { message: detail.message || type });
}

// The controls a field names, and where its message goes.
function targetOf(field, sent) {
  const [name, index] = field.split(".");
  if (name === "question") return { controls: [$("poll-question")], anchor: $("poll-question").closest(".field"), id: "poll-question-error" };
  if (name === "kind") return { controls: [$("poll-kind")], anchor: $("poll-kind").closest(".field"), id: "poll-kind-error" };
  if (name === "max_choices") return { controls: [$("poll-max")], anchor: $("poll-max-field"), id: "poll-max-error" };
  if (name === "hide_results") return { controls: [$("poll-hide")], anchor: $("poll-hide").closest(".field"), id: "poll-hide-error" };
  if (name === "options") {
    const one = index !== undefined ? sent[Number(index)] : null;
    const controls = one ? [one] : [...document.querySelectorAll("#poll-options input")];
    return { controls, anchor: $("poll-options-field"), id: "poll-options-error" };
  }
  if (name === "rooms") return { controls: [...document.querySelectorAll("#poll-rooms input")], anchor: $("poll-rooms-field"), id: "poll-rooms-error" };
  return null;
}

function clearErrors() {
  for (const node of $("poll-form").querySelectorAll(".field-error[data-field]")) node.remove();
  for (const control of $("poll-form").querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && !id.endsWith("-error"));
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }
  $("poll-form-error").hidden = true;
  $("poll-form-error").textContent = "";
}

function mark(target, text) {
  let node = document.getElementById(target.id);
  if (!node) {
    node = el("p", { id: target.id, class: "field-error", dataset: { field: target.id } });
    target.anchor.append(node);
  }
  node.textContent = node.textContent ? `${node.textContent} ${text}` : text;
  for (const control of target.controls) {
    control.setAttribute("aria-invalid", "true");
    const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!ids.includes(target.id)) control.setAttribute("aria-describedby", [...ids, target.id].join(" "));
  }
}

// Every problem the server named, each at its field; the rest at the top of the form.
function showErrors(err, sent) {
  clearErrors();
  let details = Array.isArray(err.details) ? err.details : [];
  if (!details.length && FIELD_OF_CODE[err.code]) details = [{ field: FIELD_OF_CODE[err.code], type: err.code, message: err.message }];
  const loose = [];
  for (const detail of details) {
    const target = targetOf(detail.field || "", sent);
    const text = detailText(detail, err);
    if (target && target.controls.length) mark(target, text);
    else loose.push(text);
  }
  const top = $("poll-form-error");
  const marked = [...$("poll-form").querySelectorAll("[aria-invalid='true']")];
  if (loose.length || !marked.length) {
    top.textContent = loose.length ? loose.join(" ") : errorText(err);
  } else {
    top.textContent = t("polls.mod.errors");
  }
  top.hidden = false;
  if (marked.length) marked[0].focus();
  else top.focus();
}

async function submitForm(event) {
  event.preventDefault();
  if (!state.token) return;
  const { body, sent } = formBody();
  const save = $("poll-save");
  if (save.getAttribute("aria-disabled") === "true") return;
  save.setAttribute("aria-disabled", "true");
  $("poll-form-status").textContent = "";
  try {
    const out = editing
      ? await api("PUT", `${base()}/${encodeURIComponent(editing)}`, { token: state.token, body })
      : await api("POST", base(), { token: state.token, body });
    resetForm();
    $("poll-form-status").textContent = t("polls.mod.saved");
    saved(out);
  } catch (err) {
    showErrors(err, sent);
  } finally {
    save.removeAttribute("aria-disabled");
  }
}

// The event's rooms and the language may have changed: the room boxes and the options'
// labels follow (what is typed and ticked stays).
export function refreshPollForm() {
  renderRoomBoxes();
  if (optionsLang !== lang()) {
    if (optionsLang !== null) renderOptions(optionValues());
    optionsLang = lang();
  }
}

// `onSaved({poll, results})` after a draft was saved; `onCancel(id)` after an edit was
// given up.
export function setupPollForm({ onSaved, onCancel }) {
  saved = onSaved;
  renderOptions([]);
  renderKind();
  setFormTitle();
  $("poll-kind").addEventListener("change", renderKind);
  $("poll-option-add").addEventListener("click", () => {
    const values = optionValues();
    if (values.length >= MAX_OPTIONS) return;
    renderOptions([...values, ""]);
    $(`poll-option-${values.length}`).focus();
  });
  $("poll-options").addEventListener("click", (event) => {
    const button = event.target.closest(".poll-option-remove");
    if (!button) return;
    const index = Number(button.dataset.index);
    const values = optionValues().filter((_, i) => i !== index);
    renderOptions(values);
    const next = $(`poll-option-${Math.min(index, values.length - 1)}`);
    if (next) next.focus();
  });
  $("poll-form").addEventListener("submit", submitForm);
  $("poll-cancel").addEventListener("click", () => {
    const id = editing;
    resetForm();
    onCancel(id);
  });
  $("poll-save").disabled = false; // wired: the form may be sent now
}
