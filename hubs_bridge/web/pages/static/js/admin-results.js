// The results report of the chosen event (issue 14), in its "Exporte" section: publish the
// public page /r/{event} (with its Markdown and PDF) once the event has ended, and withdraw
// it again. Before the end the button is disabled, the reason beside it; it becomes usable
// at the end without a reload.

import { announce, clear, el, errorText, fmtDateTime, icon, lang, t } from "./common.js";
import { phaseOf } from "./admin-events.js";
import { selectedEvent, staff } from "./admin-state.js";

const stateLine = document.getElementById("results-state");
const publishButton = document.getElementById("results-publish");
const withdrawButton = document.getElementById("results-withdraw");
const why = document.getElementById("results-why");
const links = document.getElementById("results-links");
const errorBox = document.getElementById("results-error");
const SHORT = { dateStyle: "medium", timeStyle: "short" };
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

let publication = null; // the API's answer for the event shown ({event, published, ...})
let busy = false;
let timer = null;
let errorMessage = null; // () => the text of the last failure, again on a language switch

function path(event) {
  return `/api/events/${encodeURIComponent(event.slug)}/results`;
}

function showError(err) {
  errorMessage = err ? () => errorText(err) : null;
  errorBox.textContent = errorMessage ? errorMessage() : "";
  errorBox.hidden = !errorMessage;
}

function linkItem(href, iconName, label, extra) {
  return el("li", {}, el("a", { class: "btn btn-small", href, ...extra }, icon(iconName), label));
}

function renderLinks(current) {
  clear(links);
  links.hidden = !current;
  if (!current) return;
  const suffix = `?lang=${lang()}`;
  const [markdown, pdf] = current.downloads;
  links.append(
    el(
      "li",
      {},
      el("a", { id: "results-page-link", class: "btn btn-small", href: current.page, target: "_blank", rel: "noopener" }, icon("globe"), t("admin.results.page")),
      el("span", { class: "muted" }, `${location.origin}${current.page} – ${t("admin.results.page_help")}`),
    ),
    linkItem(`${markdown}${suffix}`, "download", t("admin.results.markdown"), { download: "" }),
    linkItem(`${pdf}${suffix}`, "download", t("admin.results.pdf"), { download: "" }),
  );
}

export function renderResults() {
  clearTimeout(timer);
  timer = null;
  const event = selectedEvent();
  if (!event) return;
  const known = publication && publication.event === event.slug ? publication : null;
  const published = Boolean(known?.published);
  const ended = phaseOf(event) === "ended";
  if (!known) stateLine.textContent = t("admin.results.state_loading");
  else stateLine.textContent = published ? t("admin.results.state_published", { when: fmtDateTime(known.published_at, SHORT) }) : t("admin.results.state_unpublished");
  stateLine.dataset.published = published ? "true" : "false";
  publishButton.hidden = published;
  withdrawButton.hidden = !published;
  publishButton.disabled = busy || !known || !ended;
  withdrawButton.disabled = busy;
  const explain = !ended && !published;
  why.hidden = !explain;
  why.textContent = explain ? t("admin.results.not_ended", { end: fmtDateTime(event.ends_at, SHORT) }) : "";
  if (explain) publishButton.setAttribute("aria-describedby", "results-why");
  else publishButton.removeAttribute("aria-describedby");
  renderLinks(published ? known : null);
  if (errorMessage) errorBox.textContent = errorMessage();
  // The end comes while the dashboard is open: the button becomes usable then.
  if (!ended) timer = setTimeout(renderResults, Math.min(MAX_TIMEOUT_MS, new Date(event.ends_at).getTime() - Date.now() + 1000));
}

export async function loadResults() {
  const event = selectedEvent();
  if (!event) return;
  publication = null;
  showError(null);
  renderResults();
  try {
    const answer = await staff("GET", path(event));
    if (selectedEvent()?.slug !== event.slug) return;
    publication = answer;
  } catch (err) {
    if (selectedEvent()?.slug !== event.slug) return;
    showError(err);
  }
  renderResults();
}

async function change(publish) {
  const event = selectedEvent();
  if (!event || busy) return;
  busy = true;
  showError(null);
  renderResults();
  try {
    const answer = await staff(publish ? "POST" : "DELETE", path(event));
    if (selectedEvent()?.slug === event.slug) publication = answer;
    announce(t(publish ? "admin.results.published" : "admin.results.withdrawn"));
  } catch (err) {
    showError(err);
  } finally {
    busy = false;
    renderResults();
  }
  // The button pressed may be hidden now: focus goes to the one shown in its place.
  (publishButton.hidden ? withdrawButton : publishButton).focus();
}

export function resetResults() {
  clearTimeout(timer);
  timer = null;
  publication = null;
  busy = false;
  showError(null);
  clear(links);
  links.hidden = true;
}

export function setupResults() {
  publishButton.addEventListener("click", () => change(true));
  withdrawButton.addEventListener("click", () => change(false));
}
