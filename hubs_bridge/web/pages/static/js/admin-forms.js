// Forms of the dashboard: reading values, and the API's validation errors shown all at once:
// a summary at the top that links to each field (focus goes there), and each field's own
// message next to it (.field-error, aria-invalid, aria-describedby).

import { clear, el, errorText, t, tn } from "./common.js";

// Field errors of the API that have a text of their own; others show the API's message.
const TYPE_KEYS = {
  missing: "admin.error.missing",
  string_too_short: "admin.error.missing",
  string_too_long: "admin.error.too_long",
  greater_than_equal: "admin.error.range",
  less_than_equal: "admin.error.range",
  greater_than: "admin.error.range",
  less_than: "admin.error.range",
  int_parsing: "admin.error.number",
  int_type: "admin.error.number",
  int_from_float: "admin.error.number",
  datetime_parsing: "admin.error.datetime",
  datetime_type: "admin.error.datetime",
  datetime_from_date_parsing: "admin.error.datetime",
  unknown_scene: "admin.error.unknown_scene",
  ends_before_start: "admin.error.ends_before_starts",
  event_too_long: "admin.error.too_long_event",
  string_pattern_mismatch: "admin.error.slug_pattern",
  bad_slug: "admin.error.slug_pattern",
  file_missing: "admin.error.file_missing",
};

const RANGE = new Set(["greater_than_equal", "less_than_equal", "greater_than", "less_than"]);

function detailText(detail, control) {
  const message = detail.message || "";
  // A number out of range says the range, as the field allows it (min and max in the HTML).
  if (RANGE.has(detail.type) && control?.min && control?.max) return t("admin.error.range_between", { min: control.min, max: control.max });
  const key = TYPE_KEYS[detail.type];
  return key ? t(key) : t("admin.error.invalid", { message });
}

// The form control a detail's field ("qa.max_question_chars", "rooms.0.scene", "ends_at") names;
// none for "body" (the whole input), whose message goes to the top of the form.
function controlFor(form, detail) {
  const field = detail.field || "";
  const byName = (name) => form.querySelector(`[name="${CSS.escape(name)}"]`);
  return field ? byName(field) || byName(field.split(".").pop()) : null;
}

const lastErrors = new Map(); // form -> the API error shown, again on a language switch

export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error[data-for]")) node.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && !id.endsWith("-error"));
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }
  const summary = form.querySelector(".error-summary");
  if (summary) {
    summary.hidden = true;
    clear(summary.querySelector(".error-summary-list"));
  }
  delete form.dataset.failed;
  lastErrors.delete(form);
}

function markField(control, text) {
  const id = `${control.id}-error`;
  let node = document.getElementById(id);
  if (!node) {
    node = el("p", { id, class: "field-error", dataset: { for: control.id } });
    const wrap = control.closest(".field") || control.parentElement;
    wrap.append(node);
  }
  node.textContent = node.textContent ? `${node.textContent} ${text}` : text;
  control.setAttribute("aria-invalid", "true");
  const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!ids.includes(id)) control.setAttribute("aria-describedby", [...ids, id].join(" "));
}

// The visible name of a control (its label without the checkbox itself).
function labelOf(form, control) {
  const label = form.querySelector(`label[for="${CSS.escape(control.id)}"]`);
  return (label ? label.textContent : control.name).replace(/\s+/g, " ").trim();
}

// The summary at the top of the form: every problem at once, each field's one a link that
// moves to the field (the summary is where focus goes, so all of them are heard first).
function showSummary(form, fieldItems, loose) {
  const summary = form.querySelector(".error-summary");
  if (!summary) return null;
  const list = summary.querySelector(".error-summary-list");
  clear(list);
  for (const text of loose) list.append(el("li", {}, text));
  for (const { control, texts } of fieldItems) {
    const link = el("a", { href: `#${control.id}`, dataset: { field: control.id } }, `${labelOf(form, control)}: ${texts.join(" ")}`);
    link.addEventListener("click", (clickEvent) => {
      clickEvent.preventDefault(); // no #hash: that is the dashboard's address
      control.focus();
      control.scrollIntoView({ block: "center" });
    });
    list.append(el("li", {}, link));
  }
  const n = fieldItems.length + loose.length;
  summary.querySelector(".error-summary-title").textContent = fieldItems.length ? tn("admin.error.summary", n) : t("admin.error.failed");
  summary.hidden = false;
  return summary;
}

// Show an API error on `form`: every problem in the summary at the top, and those that name
// a field next to it as well. Focus moves to the summary (not with `focus: false`).
export function showErrors(form, err, { focus = true } = {}) {
  clearErrors(form);
  lastErrors.set(form, err);
  form.dataset.failed = "true";
  let details = Array.isArray(err.details) ? err.details : [];
  if (!details.length && (err.code === "event_exists" || err.code === "room_exists")) {
    details = [{ field: "slug", message: err.message, type: "slug_taken" }];
  }
  const byControl = new Map();
  const loose = [];
  for (const detail of details) {
    const control = controlFor(form, detail);
    const text = detail.type === "slug_taken" ? t("admin.error.slug_taken") : detailText(detail, control);
    if (control) {
      markField(control, text);
      if (!byControl.has(control)) byControl.set(control, []);
      byControl.get(control).push(text);
    } else {
      loose.push(text);
    }
  }
  if (!byControl.size && !loose.length) loose.push(errorText(err));
  // In the order the fields appear in the form, as a person reads it.
  const fieldItems = [...byControl]
    .map(([control, texts]) => ({ control, texts }))
    .sort((a, b) => (a.control.compareDocumentPosition(b.control) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  const summary = showSummary(form, fieldItems, loose);
  if (!focus) return;
  if (summary) summary.focus();
  else fieldItems[0]?.control.focus();
}

// Language switch: the errors shown, in the new language, where they are (focus stays).
export function relabelErrors(form) {
  const err = lastErrors.get(form);
  if (err && !form.hidden) showErrors(form, err, { focus: false });
}

// Values of the named controls; "qa.x" names nest. Empty optional texts become null.
export function formValues(form, { optional = [] } = {}) {
  const out = {};
  for (const control of form.querySelectorAll("[name]")) {
    let value;
    if (control.type === "checkbox") value = control.checked;
    else if (control.type === "number") value = control.value === "" ? null : Number(control.value);
    else value = control.value.trim();
    if (value === "" && optional.includes(control.name)) value = null;
    const path = control.name.split(".");
    let target = out;
    for (const part of path.slice(0, -1)) target = target[part] ||= {};
    target[path[path.length - 1]] = value;
  }
  return out;
}

export function setValues(form, values) {
  for (const control of form.querySelectorAll("[name]")) {
    const value = control.name.split(".").reduce((obj, part) => (obj == null ? undefined : obj[part]), values);
    if (control.type === "checkbox") control.checked = Boolean(value);
    else control.value = value == null ? "" : String(value);
  }
}
