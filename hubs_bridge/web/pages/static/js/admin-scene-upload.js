// Uploading a scene: a .glb (and a preview PNG) chosen with the file buttons or dropped on the
// form, its short name suggested from the file name, sent with XMLHttpRequest (fetch reports
// no upload progress) with a <progress> in percent and bytes, cancellable while bytes are on
// their way; then the server's check as a report in the page's language.
//
// The first 12 bytes are looked at before sending (the GLB header: "glTF" and the declared
// length), so that a cut-off or foreign file is refused at once instead of after uploading
// it whole; the server checks the same again, and everything else.

import { announce, clear, el, fmtNumber, onLangChange, t } from "./common.js";
import { clearErrors, relabelErrors, showErrors } from "./admin-forms.js";
import { state } from "./admin-state.js";
import { loadScenes, onScenesLoaded } from "./admin-scenes.js";
import { fmtPercent, fmtSize, localPath, pairText, problemItem, refusalItem } from "./admin-scene-text.js";

const form = document.getElementById("scene-upload-form");
const dropZone = document.getElementById("scene-drop");
const dropNote = document.getElementById("scene-drop-note");
const glbInput = document.getElementById("scene-glb");
const previewInput = document.getElementById("scene-preview");
const slugInput = document.getElementById("scene-slug");
const slugList = document.getElementById("scene-slugs");
const target = document.getElementById("scene-slug-target");
const submitButton = document.getElementById("scene-upload-submit");
const cancelButton = document.getElementById("scene-upload-cancel");
const progressBox = document.getElementById("scene-progress-box");
const progress = document.getElementById("scene-progress");
const progressText = document.getElementById("scene-progress-text");
const reportBox = document.getElementById("scene-report");
const reportTitle = document.getElementById("scene-report-title");
const reportBody = document.getElementById("scene-report-body");

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/; // a room's scene and a pack folder alike
const GLB_MAGIC = [0x67, 0x6c, 0x54, 0x46]; // "glTF", glTF 2.0 section 4.4.1
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_PREVIEW_BYTES = 4 * 1024 * 1024;

let request = null; // the XMLHttpRequest on its way
let suggested = ""; // the short name last taken from a file name (a new file replaces it)
let shown = null; // {phase, loaded, total} of the progress bar
let report = null; // {version} after an upload, {err} after a refusal
let dropMessage = null; // () => the text under the drop zone

// "Stadtfest Bühne (v2).glb" -> "stadtfest-buehne-v2"
export function slugFromName(name) {
  const umlauts = { ä: "ae", ö: "oe", ü: "ue", ß: "ss" };
  return name
    .replace(/\.[^.]*$/, "")
    .toLowerCase()
    .replace(/[äöüß]/g, (c) => umlauts[c])
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
}

function renderTarget() {
  const slug = slugInput.value.trim();
  const scene = state.scenes.find((s) => s.slug === slug);
  if (scene) target.textContent = t("admin.upload.target_version", { n: scene.version + 1, title: pairText(scene.title) });
  else target.textContent = SLUG.test(slug) ? t("admin.upload.target_new") : "";
}

function fillSlugList() {
  clear(slugList);
  for (const scene of state.scenes) slugList.append(el("option", { value: scene.slug }, pairText(scene.title)));
  renderTarget();
}

function glbChosen() {
  const file = glbInput.files[0];
  if (!file) return;
  const slug = slugFromName(file.name);
  if (slug && (!slugInput.value.trim() || slugInput.value.trim() === suggested)) {
    slugInput.value = slug;
    suggested = slug;
  }
  renderTarget();
}

function showDropNote(message) {
  dropMessage = message;
  dropNote.textContent = message ? message() : "";
  dropNote.hidden = !message;
}

function setFile(input, file) {
  const list = new DataTransfer();
  list.items.add(file);
  input.files = list.files;
}

const isGlb = (file) => /\.glb$/i.test(file.name) || file.type === "model/gltf-binary";
const isPng = (file) => /\.png$/i.test(file.name) || file.type === "image/png";

// Files dropped on the form: the .glb and the .png go to their file fields.
function take(files) {
  const glbs = files.filter(isGlb);
  const pngs = files.filter((f) => !isGlb(f) && isPng(f));
  const others = files.filter((f) => !isGlb(f) && !isPng(f)).map((f) => f.name);
  if (glbs.length) {
    setFile(glbInput, glbs[0]);
    glbChosen();
  }
  if (pngs.length) setFile(previewInput, pngs[0]);
  if (others.length) showDropNote(() => t("admin.upload.dropped_unknown", { names: others.join(", ") }));
  else if (glbs.length > 1) showDropNote(() => t("admin.upload.dropped_many"));
  else showDropNote(null);
}

function hasFiles(dragEvent) {
  return Boolean(dragEvent.dataTransfer) && [...dragEvent.dataTransfer.types].includes("Files");
}

function setupDrop() {
  const over = (dragEvent) => {
    if (!hasFiles(dragEvent) || request) return;
    dragEvent.preventDefault();
    dragEvent.dataTransfer.dropEffect = "copy";
    dropZone.classList.add("is-over");
  };
  form.addEventListener("dragenter", over);
  form.addEventListener("dragover", over);
  form.addEventListener("dragleave", (dragEvent) => {
    if (!form.contains(dragEvent.relatedTarget)) dropZone.classList.remove("is-over");
  });
  form.addEventListener("drop", (dragEvent) => {
    if (!hasFiles(dragEvent)) return;
    dragEvent.preventDefault();
    dragEvent.stopPropagation();
    dropZone.classList.remove("is-over");
    if (!request) take([...dragEvent.dataTransfer.files]);
  });
  // A file dropped beside the form must not make the browser leave the dashboard to show it.
  window.addEventListener("dragover", (dragEvent) => {
    if (!hasFiles(dragEvent) || form.contains(dragEvent.target)) return;
    dragEvent.preventDefault();
    dragEvent.dataTransfer.dropEffect = "none";
  });
  window.addEventListener("drop", (dragEvent) => {
    if (hasFiles(dragEvent)) dragEvent.preventDefault();
  });
}

async function startsWith(file, bytes) {
  const head = new Uint8Array(await file.slice(0, bytes.length).arrayBuffer());
  return bytes.every((b, i) => i >= head.length || head[i] === b) && head.length > 0;
}

// The problem code the server would answer for these files' first bytes, or null.
async function headerProblem(glb, preview) {
  if (glb.size === 0 || !(await startsWith(glb, GLB_MAGIC))) return "not_glb";
  if (glb.size < 12) return "glb_truncated";
  const declared = new DataView(await glb.slice(8, 12).arrayBuffer()).getUint32(0, true);
  if (glb.size < declared) return "glb_truncated";
  if (glb.size > declared) return "glb_length_mismatch";
  if (preview && preview.size > 0) {
    if (preview.size < PNG_SIGNATURE.length || !(await startsWith(preview, PNG_SIGNATURE))) return "preview_not_png";
    if (preview.size > MAX_PREVIEW_BYTES) return "preview_too_large";
  }
  return null;
}

function renderProgress() {
  if (!shown) {
    progressBox.hidden = true;
    return;
  }
  const { phase, loaded, total } = shown;
  const percent = total ? Math.min(100, Math.floor((loaded * 100) / total)) : 0;
  progressBox.hidden = false;
  progressBox.dataset.phase = phase;
  progress.value = percent;
  const values = { percent: fmtPercent(percent), done: fmtSize(loaded), total: fmtSize(total) };
  progressText.textContent = t(`admin.upload.${phase}`, values);
}

function setProgress(phase, loaded, total) {
  shown = { phase, loaded, total };
  renderProgress();
}

function problems(list) {
  return el("ul", { class: "problems" }, list);
}

// Children as el() takes them (nested lists, null left out), appended to the report.
function put(...children) {
  reportBody.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

function renderReport() {
  clear(reportBody);
  reportBox.hidden = !report;
  if (!report) return;
  if (report.version) {
    const v = report.version;
    const title = pairText(v.title);
    reportBox.dataset.outcome = "saved";
    reportTitle.textContent = t("admin.upload.ok_title", { title, n: v.number });
    put(
      el("img", { class: "scene-preview report-preview", src: localPath(v.preview_url), alt: t("admin.scenes.preview_alt_version", { title, n: v.number }), width: 320, height: 180 }),
      el("p", {}, t("admin.upload.ok_text", { size: fmtSize(v.size), triangles: fmtNumber(v.triangles), slug: v.slug })),
      v.has_preview ? null : el("p", { class: "muted" }, t("admin.scenes.placeholder_note")),
      v.warnings.length ? [el("p", {}, t("admin.upload.warnings")), problems(v.warnings.map((w) => problemItem(w)))] : el("p", {}, t("admin.upload.ok_clean")),
    );
    return;
  }
  const err = report.err;
  reportBox.dataset.outcome = "refused";
  reportTitle.textContent = t("admin.upload.refused_title");
  if (err.code === "upload_cancelled") put(el("p", {}, t("admin.upload.cancelled")));
  else if (err.code === "upload_failed") put(el("p", {}, t("admin.upload.failed")));
  else if (err.code === "scene_invalid") {
    const found = err.details.map((d) => problemItem({ code: d.type, message: d.message }));
    put(el("p", {}, t("admin.upload.refused_invalid")), problems(found), el("p", {}, t("admin.upload.nothing_stored")));
  } else {
    put(el("p", {}, t("admin.upload.refused_file")), problems([refusalItem(err)]), el("p", {}, t("admin.upload.nothing_stored")));
  }
}

function showReport(next) {
  report = next;
  renderReport();
  announce(reportTitle.textContent);
  reportBox.focus();
}

// POST the form's files with progress; resolves to the new version, rejects with the error
// body ({code, message, details, status}) as common.js api() does.
function send(slug, body) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    request = xhr;
    xhr.open("POST", `/api/scenes/${encodeURIComponent(slug)}`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (progressEvent) => {
      if (progressEvent.lengthComputable) setProgress("bytes", progressEvent.loaded, progressEvent.total);
    });
    // Every byte sent: the server checks now; cancelling could no longer promise "nothing stored".
    xhr.upload.addEventListener("load", () => {
      cancelButton.hidden = true;
      setProgress("checking", shown.total, shown.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch (_) {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const body = data && typeof data === "object" ? data : {};
        reject({ ...body, status: xhr.status, code: body.code || `http_${xhr.status}`, message: body.message || xhr.statusText, details: Array.isArray(body.details) ? body.details : [] });
      }
    });
    xhr.addEventListener("error", () => reject({ status: 0, code: "upload_failed", details: [] }));
    xhr.addEventListener("abort", () => reject({ status: 0, code: "upload_cancelled", details: [] }));
    xhr.send(body);
  });
}

function busy(on) {
  submitButton.disabled = on;
  cancelButton.hidden = !on;
  glbInput.disabled = on;
  previewInput.disabled = on;
  form.setAttribute("aria-busy", on ? "true" : "false");
}

async function submit(submitEvent) {
  submitEvent.preventDefault();
  if (request) return;
  clearErrors(form);
  const glb = glbInput.files[0] || null;
  const preview = previewInput.files[0] || null;
  const slug = slugInput.value.trim();
  const details = [];
  if (!glb) details.push({ field: "glb", type: "file_missing", message: "" });
  if (!slug) details.push({ field: "slug", type: "missing", message: "" });
  else if (!SLUG.test(slug)) details.push({ field: "slug", type: "string_pattern_mismatch", message: "" });
  if (details.length) {
    showErrors(form, { code: "invalid_request", details });
    return;
  }
  const problem = await headerProblem(glb, preview);
  if (problem) {
    shown = null;
    renderProgress();
    showReport({ err: { code: problem, message: "", details: [] } });
    return;
  }
  const body = new FormData();
  body.append("glb", glb, glb.name);
  if (preview) body.append("preview", preview, preview.name);
  for (const name of ["title", "title_en"]) {
    const value = form.elements[name].value.trim();
    if (value) body.append(name, value);
  }
  report = null;
  renderReport();
  setProgress("bytes", 0, glb.size + (preview ? preview.size : 0));
  busy(true);
  announce(t("admin.upload.started"));
  try {
    const version = await send(slug, body);
    setProgress("finished", shown.total, shown.total);
    form.reset();
    suggested = "";
    await loadScenes();
    showReport({ version });
  } catch (err) {
    if (err.code === "invalid_request") {
      // A short name or a title the server refuses: next to its field.
      shown = null;
      renderProgress();
      showErrors(form, err);
    } else {
      showReport({ err });
      if (err.code === "upload_failed" || err.code === "upload_cancelled") loadScenes(); // the library as it is
    }
  } finally {
    request = null;
    busy(false);
  }
}

// The form, ready for a new version of `slug` (from a scene's card in the gallery).
export function uploadVersionOf(slug) {
  if (request) return;
  form.reset();
  clearErrors(form);
  slugInput.value = slug;
  suggested = "";
  renderTarget();
  form.scrollIntoView({ block: "start" });
  glbInput.focus();
}

export function setupSceneUpload() {
  form.addEventListener("submit", submit);
  cancelButton.addEventListener("click", () => request?.abort());
  glbInput.addEventListener("change", glbChosen);
  slugInput.addEventListener("input", renderTarget);
  setupDrop();
  onScenesLoaded(fillSlugList);
  onLangChange(() => {
    renderTarget();
    renderProgress();
    renderReport();
    relabelErrors(form);
    if (dropMessage) showDropNote(dropMessage);
  });
}
