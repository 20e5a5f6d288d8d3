// Rooms of the chosen event: list, add, change, delete (with a confirmation).

import { announce, clear, el, errorText, lang, localized, t } from "./common.js";
import { confirmDelete } from "./admin-dialog.js";
import { clearErrors, formValues, relabelErrors, setValues, showErrors } from "./admin-forms.js";
import { reloadEvents, selectedEvent, staff, state } from "./admin-state.js";

const list = document.getElementById("rooms");
const form = document.getElementById("room-form");
const heading = document.getElementById("room-form-heading");
const sceneSelect = document.getElementById("room-scene");
const listError = document.getElementById("rooms-error");
let editing = null; // slug of the room in the form, null when adding

function sceneTitle(slug) {
  const scene = state.scenes.find((s) => s.slug === slug);
  return scene ? scene.title[lang()] || scene.title.de : slug;
}

export function fillSceneSelect() {
  const chosen = sceneSelect.value;
  clear(sceneSelect);
  for (const scene of state.scenes) {
    sceneSelect.append(el("option", { value: scene.slug }, `${scene.title[lang()] || scene.title.de} (${scene.slug})`));
  }
  if (chosen) sceneSelect.value = chosen;
}

export function renderRooms() {
  const event = selectedEvent();
  clear(list);
  if (!event) return;
  document.getElementById("rooms-empty").hidden = event.rooms.length > 0;
  for (const room of event.rooms) {
    const title = localized(room, "title");
    const edit = el("button", { type: "button", class: "btn btn-small room-edit", "aria-label": t("admin.rooms.edit_label", { title }) }, t("admin.edit"));
    const del = el("button", { type: "button", class: "btn btn-small btn-danger room-delete", "aria-label": t("admin.rooms.delete_label", { title }) }, t("admin.delete"));
    edit.addEventListener("click", () => openForm(room));
    del.addEventListener("click", () => deleteRoom(event, room, del));
    const inHubs = room.hubs && !room.hubs.closed;
    list.append(
      el(
        "li",
        { dataset: { room: room.slug } },
        el("div", { class: "event-head" }, el("strong", { class: "room-title" }, title), " ", el("span", { class: `badge ${inHubs ? "badge-ok" : "badge-info"}` }, t(inHubs ? "admin.rooms.hubs_open" : "admin.rooms.hubs_none"))),
        el("p", { class: "muted" }, t("admin.rooms.summary", { scene: sceneTitle(room.scene), capacity: room.capacity }), " · ", el("code", {}, room.slug)),
        el("div", { class: "row" }, edit, del),
      ),
    );
  }
}

function setHeading() {
  const room = editing && selectedEvent()?.rooms.find((r) => r.slug === editing);
  heading.textContent = room ? t("admin.rooms.edit_heading", { title: localized(room, "title") }) : t("admin.rooms.create_heading");
}

export function openForm(room) {
  editing = room ? room.slug : null;
  clearErrors(form);
  fillSceneSelect();
  const values = room || { slug: "", title: "", title_en: "", scene: state.scenes[0]?.slug || "", capacity: 24, chat_bridge: true, overflow_allowed: false, overflow_max_twins: 2 };
  setValues(form, values);
  document.getElementById("room-slug").readOnly = Boolean(room);
  setHeading();
  form.hidden = false;
  heading.focus();
}

export function closeRoomForm() {
  form.hidden = true;
  editing = null;
}

async function submit(submitEvent) {
  submitEvent.preventDefault();
  const event = selectedEvent();
  if (!event) return;
  const body = formValues(form, { optional: ["title_en"] });
  for (const [key, value] of Object.entries(body)) if (value === null && !editing) delete body[key];
  const base = `/api/events/${encodeURIComponent(event.slug)}/rooms`;
  const button = document.getElementById("room-save");
  button.disabled = true;
  try {
    if (editing) {
      delete body.slug;
      await staff("PATCH", `${base}/${encodeURIComponent(editing)}`, body);
    } else {
      await staff("POST", base, body);
    }
    const slug = editing || body.slug;
    clearErrors(form);
    closeRoomForm();
    await reloadEvents();
    announce(t("admin.saved"));
    list.querySelector(`li[data-room="${CSS.escape(slug)}"] .room-edit`)?.focus();
  } catch (err) {
    showErrors(form, err);
  } finally {
    button.disabled = false;
  }
}

async function deleteRoom(event, room, opener) {
  const ok = await confirmDelete({
    title: t("admin.rooms.delete_title"),
    text: t("admin.rooms.delete_text", { title: localized(room, "title"), slug: room.slug, event: localized(event, "title") }),
    opener,
  });
  if (!ok) return;
  listError.hidden = true;
  try {
    await staff("DELETE", `/api/events/${encodeURIComponent(event.slug)}/rooms/${encodeURIComponent(room.slug)}`);
    await reloadEvents();
    announce(t("admin.deleted"));
    document.getElementById("room-new").focus();
  } catch (err) {
    // Seen (role="alert" is heard too) next to the list, not only spoken.
    listError.message = () => t("admin.rooms.delete_failed", { title: localized(room, "title"), reason: errorText(err) });
    listError.textContent = listError.message();
    listError.hidden = false;
    if (err.status === 404) {
      await reloadEvents().catch(() => {});
      document.getElementById("room-new").focus();
    }
  }
}

export function setupRooms() {
  document.getElementById("room-new").addEventListener("click", () => openForm(null));
  document.getElementById("room-cancel").addEventListener("click", () => {
    closeRoomForm();
    document.getElementById("room-new").focus();
  });
  form.addEventListener("submit", submit);
}

export function relabelRoomForm() {
  if (!form.hidden) setHeading();
  relabelErrors(form);
  if (!listError.hidden && listError.message) listError.textContent = listError.message();
  fillSceneSelect();
}
