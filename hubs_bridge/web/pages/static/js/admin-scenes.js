// The scene library as a gallery: preview image, name, description, size.

import { clear, el, fmtNumber, lang, t } from "./common.js";
import { state } from "./admin-state.js";

const gallery = document.getElementById("scenes");

function fmtSize(bytes) {
  if (bytes >= 1024 * 1024) return `${fmtNumber(Math.round((bytes / (1024 * 1024)) * 10) / 10)} MB`;
  return `${fmtNumber(Math.max(1, Math.round(bytes / 1024)))} kB`;
}

function text(pair) {
  return pair ? pair[lang()] || pair.de : "";
}

// Same origin path of a preview (the API gives absolute URLs under public_url).
function localUrl(url) {
  try {
    return new URL(url, location.origin).pathname;
  } catch (_) {
    return null;
  }
}

export function renderScenes() {
  clear(gallery);
  if (!state.scenes.length) {
    gallery.append(el("li", { class: "muted" }, t("admin.scenes.empty")));
    return;
  }
  for (const scene of state.scenes) {
    const title = text(scene.title);
    const preview = scene.preview_url
      ? el("img", { src: localUrl(scene.preview_url), alt: t("admin.scenes.preview_alt", { title }), width: 320, height: 180 })
      : el("p", { class: "scene-no-preview" }, t("admin.scenes.no_preview"));
    gallery.append(
      el(
        "li",
        { class: "scene-card", dataset: { scene: scene.slug } },
        preview,
        el("h3", {}, title),
        el("p", { class: "user-text" }, text(scene.description)),
        el("p", { class: "muted" }, t("admin.scenes.facts", { size: fmtSize(scene.size), capacity: fmtNumber(scene.suggested_capacity) }), " · ", el("code", {}, scene.slug)),
        el("p", { class: "muted" }, t("admin.scenes.licence", { licence: scene.licence })),
      ),
    );
  }
}
