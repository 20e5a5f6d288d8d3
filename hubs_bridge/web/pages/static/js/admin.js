// The staff dashboard /admin: sign in with a staff token, then events, rooms, scenes,
// provisioning, links, attendance. The parts live in admin-*.js.

import { announce, api, applyI18n, errorText, localized, onLangChange, t, tokenStore } from "./common.js";
import { reloadEvents, selectedEvent, onEventsChanged, state, staff } from "./admin-state.js";
import { relabelEventForm, renderEvents, setupEvents, whenText } from "./admin-events.js";
import { closeRoomForm, fillSceneSelect, relabelRoomForm, renderRooms, setupRooms } from "./admin-rooms.js";
import { renderScenes } from "./admin-scenes.js";
import { renderLinks, resetModeratorToken, setupLinks } from "./admin-links.js";
import { renderStatus, setupProvision, stopProvision } from "./admin-provision.js";
import { loadStats, relabelStats, resetStats, setupStats } from "./admin-stats.js";
import { renderHubs, showHubs, stopHubs } from "./admin-hubs.js";

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
  document.getElementById("events-heading").focus();
}

function signOut() {
  tokenStore.set("staff", null);
  state.token = null;
  state.events = [];
  state.selected = null;
  stopProvision();
  stopHubs();
  resetStats();
  resetModeratorToken();
  detail.hidden = true;
  dashboard.hidden = true;
  signinSection.hidden = false;
  tokenInput.focus();
  announce(t("admin.signin.out"));
}

async function loadScenes() {
  const errorBox = document.getElementById("scenes-error");
  try {
    const data = await staff("GET", "/api/scenes");
    state.scenes = data.scenes;
    errorBox.hidden = true;
  } catch (err) {
    errorBox.textContent = errorText(err);
    errorBox.hidden = false;
  }
  renderScenes();
  fillSceneSelect();
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
  renderRooms();
  renderLinks();
}

// Show one event's rooms, links, provisioning and attendance.
function openEvent(slug) {
  if (state.selected !== slug) {
    stopProvision();
    resetStats();
    resetModeratorToken();
    closeRoomForm();
  }
  state.selected = slug;
  renderEvents();
  renderDetail();
  document.getElementById("detail-heading").focus();
  loadStats();
  showHubs(slug);
}

onEventsChanged(() => {
  if (state.selected && !selectedEvent()) {
    state.selected = null;
    stopProvision();
    stopHubs();
    resetStats();
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
applyI18n();

// The form is wired: it may be sent now (disabled in the HTML until this point, so that an
// early click cannot make the browser send the form itself).
document.getElementById("signin-submit").disabled = false;
const saved = tokenStore.get("staff");
if (saved) signIn(saved, { quiet: true });
