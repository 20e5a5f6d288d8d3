// The staff dashboard /admin: sign in with a staff token, then events, scenes, and one
// event at a time in sections (details, rooms, Hubs, Q&A, attendance, exports) with its
// live stream. The address says what is shown (#event/{slug}/{section}). The parts live
// in admin-*.js.

import { announce, api, applyI18n, errorText, localized, onLangChange, t, tokenStore } from "./common.js";
import { reloadEvents, selectedEvent, onEventsChanged, state } from "./admin-state.js";
import { relabelEventForm, renderEvents, setupEvents, whenText } from "./admin-events.js";
import { closeRoomForm, relabelRoomForm, renderRooms, setupRooms } from "./admin-rooms.js";
import { loadScenes, renderScenes, setupScenes } from "./admin-scenes.js";
import { setupSceneUpload, uploadVersionOf } from "./admin-scene-upload.js";
import { loadResults, renderResults, resetResults, setupResults } from "./admin-results.js";
import { renderLinks, resetModeratorToken, setupLinks } from "./admin-links.js";
import { renderStatus, setupProvision, stopProvision } from "./admin-provision.js";
import { loadStats, relabelStats, resetStats, setupStats } from "./admin-stats.js";
import { renderHubs, showHubs, stopHubs } from "./admin-hubs.js";
import { currentSection, parseHash, setupSections, showSection, writeHash } from "./admin-sections.js";
import { live, setupLive, startLive, stopLive } from "./admin-live.js";
import { renderFacts, setupDetails } from "./admin-details.js";
import { relabelQa, renderQa, resetQa, setupQa } from "./admin-qa.js";
import { resetExports, setupExports } from "./admin-exports.js";

const signinSection = document.getElementById("signin-section");
const dashboard = document.getElementById("dashboard");
const tokenInput = document.getElementById("signin-token");
const signinError = document.getElementById("signin-error");
const detail = document.getElementById("event-detail");
let signinMessage = null; // () => text of the sign-in error, again on a language switch

function showSigninError(message) {
  signinMessage = message;
  signinError.textContent = message();
  signinError.hidden = false;
  tokenInput.setAttribute("aria-invalid", "true");
  tokenInput.setAttribute("aria-describedby", "signin-help signin-error");
  tokenInput.focus();
}

// A staff-only call tells a staff token from a moderator's (403) and a wrong one (401).
async function check(token) {
  await api("GET", "/api/tokens", { token });
}

async function signIn(token, { quiet = false } = {}) {
  signinError.hidden = true;
  signinMessage = null;
  tokenInput.removeAttribute("aria-invalid");
  tokenInput.setAttribute("aria-describedby", "signin-help");
  try {
    await check(token);
  } catch (err) {
    tokenStore.set("staff", null);
    if (quiet) return;
    if (err.status === 401) showSigninError(() => t("common.signin.bad_token"));
    else if (err.status === 403) showSigninError(() => t("admin.signin.moderator"));
    else showSigninError(() => errorText(err));
    return;
  }
  state.token = token;
  tokenStore.set("staff", token);
  tokenInput.value = "";
  signinSection.hidden = true;
  dashboard.hidden = false;
  announce(t("admin.signin.done"));
  await Promise.all([reloadEvents(), loadScenes()]);
  // A linked view (#event/{slug}/{section}) opens at once; else the list of events.
  if (!openFromHash()) document.getElementById("events-heading").focus();
}

// Open what the address names, if it names an event there is; true when it did.
function openFromHash() {
  const target = parseHash(location.hash);
  if (!target || !state.events.some((e) => e.slug === target.slug)) return false;
  openEvent(target.slug, { section: target.section });
  return true;
}

function signOut() {
  tokenStore.set("staff", null);
  state.token = null;
  state.events = [];
  state.selected = null;
  closeEvent();
  detail.hidden = true;
  dashboard.hidden = true;
  signinSection.hidden = false;
  tokenInput.focus();
  announce(t("admin.signin.out"));
}

function renderDetailHead() {
  const event = selectedEvent();
  if (!event) return;
  document.getElementById("detail-heading").textContent = localized(event, "title");
  document.getElementById("detail-when").textContent = whenText(event);
}

function renderDetail() {
  const event = selectedEvent();
  detail.hidden = !event;
  if (!event) return;
  renderDetailHead();
  renderFacts();
  renderRooms();
  renderLinks();
  renderQa();
  renderResults();
}

// Everything of the event shown before: its polling, stream and half-done work.
function closeEvent() {
  stopProvision();
  stopHubs();
  stopLive();
  resetStats();
  resetModeratorToken();
  resetQa();
  resetExports();
  resetResults();
  closeRoomForm();
}

// Show one event in its sections (`section`: which one; else the one shown before).
function openEvent(slug, { section = null } = {}) {
  const other = state.selected !== slug;
  if (other) closeEvent();
  if (section) showSection(section);
  state.selected = slug;
  writeHash(slug);
  renderEvents();
  renderDetail();
  document.getElementById("detail-heading").focus();
  loadStats();
  showHubs(slug);
  if (live.event !== slug) startLive(slug, state.token);
  if (other) loadResults();
}

onEventsChanged(() => {
  if (state.selected && !selectedEvent()) {
    state.selected = null;
    closeEvent();
    writeHash(null);
  }
  renderEvents();
  renderDetail();
});

onLangChange(() => {
  if (signinMessage && !signinError.hidden) signinError.textContent = signinMessage();
  if (dashboard.hidden) return;
  renderEvents();
  renderDetail();
  renderScenes();
  relabelEventForm();
  relabelRoomForm();
  renderStatus();
  renderHubs();
  relabelStats();
  relabelQa();
});

// The address changed by hand (or a link to a view was followed): show that view.
window.addEventListener("hashchange", () => {
  if (dashboard.hidden) return;
  const target = parseHash(location.hash);
  if (!target) return;
  if (target.slug === state.selected) showSection(target.section || currentSection());
  else openFromHash();
});

document.getElementById("signin-form").addEventListener("submit", (submitEvent) => {
  submitEvent.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) showSigninError(() => t("admin.signin.empty"));
  else signIn(token);
});
document.getElementById("signout").addEventListener("click", signOut);
setupEvents({ open: openEvent });
setupRooms();
setupLinks();
setupProvision();
setupStats();
setupDetails();
setupQa();
setupExports();
setupResults();
setupScenes({ onNewVersion: uploadVersionOf });
setupSceneUpload();
setupSections({ onSelect: () => writeHash(state.selected) });
setupLive({
  fatal: (code) => {
    if (code === "bad_token") {
      signOut();
      showSigninError(() => t("common.signin.bad_token"));
    } else if (code === "unknown_event") {
      reloadEvents().catch(() => {}); // deleted meanwhile: the list shows it is gone
    }
  },
});
applyI18n();

// The form is wired: it may be sent now (disabled in the HTML until this point, so that an
// early click cannot make the browser send the form itself).
document.getElementById("signin-submit").disabled = false;
const saved = tokenStore.get("staff");
if (saved) signIn(saved, { quiet: true });
