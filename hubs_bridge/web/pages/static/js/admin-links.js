// Links to pass on per event (visitor page, moderator console, stage views), and a
// moderator token for the event, shown once with a copy button.

import { clear, copyText, el, errorText, localized, t } from "./common.js";
import { selectedEvent, staff } from "./admin-state.js";

const list = document.getElementById("links");
const result = document.getElementById("modtoken-result");
const secret = document.getElementById("modtoken-secret");
const error = document.getElementById("modtoken-error");

function linkItem(label, url, kind) {
  const id = `link-${kind}`;
  const copy = el("button", { type: "button", class: "btn btn-small", "aria-label": t("admin.links.copy_label", { what: label }) }, t("common.copy"));
  copy.addEventListener("click", () => copyText(url, copy));
  return el(
    "li",
    { dataset: { link: kind } },
    el("label", { for: id }, label),
    el("div", { class: "copy-row" }, el("input", { id, type: "text", readonly: true, value: url }), copy),
    el("a", { href: url, target: "_blank", rel: "noopener" }, url),
  );
}

export function renderLinks() {
  const event = selectedEvent();
  clear(list);
  if (!event) return;
  const base = location.origin;
  const slug = encodeURIComponent(event.slug);
  list.append(linkItem(t("admin.links.visitor"), `${base}/e/${slug}`, "visitor"));
  list.append(linkItem(t("admin.links.moderator"), `${base}/m/${slug}`, "moderator"));
  for (const room of event.rooms) {
    list.append(linkItem(t("admin.links.stage", { room: localized(room, "title") }), `${base}/stage/${slug}/${encodeURIComponent(room.slug)}`, `stage-${room.slug}`));
  }
}

export function resetModeratorToken() {
  result.hidden = true;
  secret.value = "";
  error.hidden = true;
}

async function createModeratorToken() {
  const event = selectedEvent();
  if (!event) return;
  error.hidden = true;
  try {
    const created = await staff("POST", "/api/tokens", { role: "moderator", events: [event.slug], label: t("admin.links.modtoken_label", { event: event.slug }) });
    secret.value = created.token;
    result.hidden = false;
    secret.focus();
    secret.select();
  } catch (err) {
    error.textContent = errorText(err);
    error.hidden = false;
  }
}

export function setupLinks() {
  document.getElementById("modtoken-create").addEventListener("click", createModeratorToken);
  const copy = document.getElementById("modtoken-copy");
  copy.addEventListener("click", () => copyText(secret.value, copy));
}
