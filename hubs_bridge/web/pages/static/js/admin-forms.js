// Forms of the dashboard: reading values, and the API's validation errors shown next to
// their fields (.field-error, aria-invalid, aria-describedby), focus on the first one.

import { el, errorText, t } from "./common.js";

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
};

function detailText(detail) {
  const message = detail.message || "";
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

export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error[data-for]")) node.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && !id.endsWith("-error"));
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }
  const top = form.querySelector(".form-error");
  if (top) top.hidden = true;
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

// Show an API error on `form`: per field where it names one, else at the top. Focus the first.
export function showErrors(form, err) {
  clearErrors(form);
  let details = Array.isArray(err.details) ? err.details : [];
  if (!details.length && (err.code === "event_exists" || err.code === "room_exists")) {
    details = [{ field: "slug", message: err.message, type: "slug_taken" }];
  }
  const controls = [];
  const loose = [];
  for (const detail of details) {
    const control = controlFor(form, detail);
    const text = detail.type === "slug_taken" ? t("admin.error.slug_taken") : detailText(detail);
    if (control) {
      markField(control, text);
      controls.push(control);
    } else {
      loose.push(text);
    }
  }
  const top = form.querySelector(".form-error");
  if (top && (loose.length || !controls.length)) {
    top.textContent = loose.length ? loose.join(" ") : errorText(err);
    top.hidden = false;
  }
  const ordered = [...form.querySelectorAll("[aria-invalid='true']")];
  if (ordered.length) ordered[0].focus();
  else if (top) top.focus?.();
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
