// The scene library as a gallery: each scene's preview (the generated placeholder when none
// was uploaded), its versions (number, size, when, by whom), the rooms of every event that
// use it and with which version (a room behind the latest can be moved to it), and deleting
// an uploaded scene (refused while rooms use it: they are named).

import { announce, clear, el, errorText, fmtDateTime, icon, localized, t, tn } from "./common.js";
import { confirmDelete } from "./admin-dialog.js";
import { fillSceneSelect } from "./admin-rooms.js";
import { onEventsChanged, reloadEvents, staff, state } from "./admin-state.js";
import { fmtSize, localPath, pairText, problemItem } from "./admin-scene-text.js";

const gallery = document.getElementById("scenes");
const listError = document.getElementById("scenes-error");
const SHORT = { dateStyle: "medium", timeStyle: "short" };
const cardErrors = new Map(); // slug -> () => the text of a failed action, shown in its card
const listeners = [];
let listMessage = null; // () => the text of a failed load
let tokenLabels = new Map(); // staff token id -> its label
let ticket = 0; // a newer load makes older answers stale
let newVersion = () => {};

// Called after every load of the library (the upload form keeps its list of names).
export function onScenesLoaded(callback) {
  listeners.push(callback);
}

export async function loadScenes() {
  const mine = ++ticket;
  try {
    const [data, tokens] = await Promise.all([staff("GET", "/api/scenes"), staff("GET", "/api/tokens").catch(() => null)]);
    if (mine !== ticket) return;
    state.scenes = data.scenes;
    if (tokens) tokenLabels = new Map(tokens.tokens.map((token) => [token.token_id, token.label]));
    listMessage = null;
  } catch (err) {
    if (mine !== ticket) return;
    listMessage = () => errorText(err);
  }
  renderScenes();
  fillSceneSelect();
  for (const callback of listeners) callback();
}

function who(tokenId) {
  if (!tokenId) return "–";
  if (tokenId === "env") return t("admin.scenes.by_env");
  return tokenLabels.get(tokenId) || tokenId;
}

function eventOf(slug) {
  return state.events.find((e) => e.slug === slug) || null;
}

function useNames(use) {
  const event = eventOf(use.event);
  const room = event?.rooms.find((r) => r.slug === use.room);
  return { event: event ? localized(event, "title") : use.event, room: room ? localized(room, "title") : use.title || use.room };
}

function versionItem(scene, version, title) {
  const when = version.source === "folder" ? t("admin.scenes.version_folder") : t("admin.scenes.version_upload", { when: version.uploaded_at ? fmtDateTime(version.uploaded_at, SHORT) : "–", who: who(version.uploaded_by) });
  const notes = version.warnings.length
    ? el("details", { class: "version-notes" }, el("summary", {}, tn("admin.scenes.warnings", version.warnings.length)), el("ul", { class: "problems" }, version.warnings.map((w) => problemItem(w))))
    : null;
  return el(
    "li",
    { dataset: { version: String(version.number) } },
    el("strong", {}, t("admin.scenes.version", { n: version.number })),
    version.number === scene.version ? [" ", el("span", { class: "badge badge-info" }, t("admin.scenes.version_newest"))] : null,
    " · ",
    fmtSize(version.size),
    " · ",
    when,
    " · ",
    el("a", { href: localPath(version.preview_url), target: "_blank", rel: "noopener", "aria-label": t("admin.scenes.preview_alt_version", { title, n: version.number }) }, t("admin.scenes.preview_link")),
    notes,
  );
}

function useItem(scene, use) {
  const names = useNames(use);
  const behind = use.version !== null && use.version < scene.version;
  const move = behind
    ? el(
        "button",
        {
          type: "button",
          class: "btn btn-small use-move",
          "aria-label": t("admin.scenes.move_label", { room: names.room, event: names.event, n: scene.version }),
          dataset: { focusKey: `${scene.slug}:move:${use.event}/${use.room}` },
          onclick: (clickEvent) => moveRoom(scene, use, clickEvent.currentTarget),
        },
        t("admin.scenes.move", { n: scene.version }),
      )
    : null;
  return el(
    "li",
    { dataset: { useEvent: use.event, useRoom: use.room } },
    el("span", { class: "use-name" }, t("admin.scenes.use", names)),
    ": ",
    el("span", { class: "use-version" }, use.version === null ? t("admin.scenes.use_latest") : t("admin.scenes.use_version", { n: use.version })),
    use.provisioned ? [" ", el("span", { class: "badge badge-ok" }, t("admin.scenes.use_provisioned"))] : null,
    move ? [" ", move] : null,
  );
}

function card(scene) {
  const title = pairText(scene.title);
  const versions = [...scene.versions].sort((a, b) => b.number - a.number);
  const latest = versions[0];
  const uses = scene.used_by;
  const fromFolder = scene.versions.some((v) => v.source === "folder");
  const actions = el(
    "div",
    { class: "row scene-actions" },
    el("button", { type: "button", class: "btn btn-small scene-new-version", "aria-label": t("admin.scenes.new_version_label", { title }), dataset: { focusKey: `${scene.slug}:version` }, onclick: () => newVersion(scene.slug) }, icon("upload"), t("admin.scenes.new_version")),
    fromFolder
      ? null
      : el(
          "button",
          { type: "button", class: "btn btn-small btn-danger scene-delete", "aria-label": t("admin.scenes.delete_label", { title }), dataset: { focusKey: `${scene.slug}:delete` }, onclick: (clickEvent) => deleteScene(scene, clickEvent.currentTarget) },
          icon("trash"),
          t("admin.delete"),
        ),
  );
  const failed = cardErrors.get(scene.slug);
  const movedNote = uses.some((u) => u.provisioned && u.version !== null && u.version < scene.version) ? el("p", { class: "field-help" }, t("admin.scenes.move_open_note")) : null;
  return el(
    "li",
    { class: "scene-card", dataset: { scene: scene.slug, version: String(scene.version) } },
    el("img", { class: "scene-preview", src: localPath(scene.preview_url), alt: t("admin.scenes.preview_alt", { title }), width: 320, height: 180 }),
    latest && !latest.has_preview ? el("p", { class: "scene-note muted" }, t("admin.scenes.placeholder_note")) : null,
    el("h4", { class: "scene-title" }, title, " ", el("span", { class: "badge badge-info scene-latest" }, t("admin.scenes.latest", { n: scene.version }))),
    scene.description ? el("p", { class: "user-text" }, pairText(scene.description)) : null,
    el("p", { class: "muted" }, t("admin.scenes.facts", { size: fmtSize(scene.size), capacity: scene.suggested_capacity }), " · ", el("code", {}, scene.slug)),
    el("p", { class: "muted" }, t(fromFolder ? "admin.scenes.source.folder" : "admin.scenes.source.upload"), " · ", t("admin.scenes.licence", { licence: scene.licence })),
    el("h5", { class: "scene-sub" }, tn("admin.scenes.versions", versions.length)),
    el("ul", { class: "version-list" }, versions.map((v) => versionItem(scene, v, title))),
    el("h5", { class: "scene-sub" }, t("admin.scenes.used_by")),
    uses.length ? el("ul", { class: "use-list" }, uses.map((u) => useItem(scene, u))) : el("p", { class: "muted" }, t("admin.scenes.unused")),
    movedNote,
    actions,
    failed ? el("p", { class: "field-error scene-error", role: "alert" }, failed()) : null,
  );
}

export function renderScenes() {
  // The gallery is drawn anew: focus goes back to the control it was on.
  const focusKey = gallery.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  listError.hidden = !listMessage;
  listError.textContent = listMessage ? listMessage() : "";
  clear(gallery);
  if (!state.scenes.length) {
    gallery.append(el("li", { class: "muted" }, t("admin.scenes.empty")));
    return;
  }
  for (const scene of state.scenes) gallery.append(card(scene));
  if (focusKey) gallery.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}

async function moveRoom(scene, use, button) {
  const names = useNames(use);
  cardErrors.delete(scene.slug);
  button.disabled = true;
  try {
    await staff("PUT", `/api/events/${encodeURIComponent(use.event)}/rooms/${encodeURIComponent(use.room)}/scene`, { version: scene.version });
    announce(t("admin.scenes.moved", { room: names.room, n: scene.version }));
    // The focus was on the button that is now gone: the card's "new version" stays.
    gallery.querySelector(`li[data-scene="${CSS.escape(scene.slug)}"] .scene-new-version`)?.focus();
  } catch (err) {
    cardErrors.set(scene.slug, () => t("admin.scenes.move_failed", { reason: errorText(err) }));
  }
  await reloadEvents().catch(() => loadScenes()); // the rooms list and the gallery both change
}

function refusal(scene, err) {
  if (err.code !== "scene_in_use") return t("admin.scenes.delete_failed", { title: pairText(scene.title), reason: errorText(err) });
  // The rooms as the library has them now (loaded again after the refusal).
  const now = state.scenes.find((s) => s.slug === scene.slug) || scene;
  const rooms = now.used_by.map((use) => t("admin.scenes.use", useNames(use))).join("; ");
  return t("admin.scenes.in_use", { rooms });
}

async function deleteScene(scene, opener) {
  const title = pairText(scene.title);
  const ok = await confirmDelete({ title: t("admin.scenes.delete_title"), text: t("admin.scenes.delete_text", { title, slug: scene.slug, n: scene.versions.length }), opener });
  if (!ok) return;
  cardErrors.delete(scene.slug);
  try {
    await staff("DELETE", `/api/scenes/${encodeURIComponent(scene.slug)}`);
    await loadScenes();
    announce(t("admin.deleted"));
    document.getElementById("gallery-heading").focus();
  } catch (err) {
    cardErrors.set(scene.slug, () => refusal(scene, err));
    await loadScenes(); // who uses it now, or that it is gone already (404)
  }
}

// `newVersion(slug)`: the upload form, ready for a new version of that scene.
export function setupScenes({ onNewVersion }) {
  newVersion = onNewVersion;
  onEventsChanged(() => {
    if (state.token) loadScenes();
  });
}
