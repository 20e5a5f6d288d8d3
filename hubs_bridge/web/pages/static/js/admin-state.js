// Shared state of the staff dashboard: the token, the events, the scenes, the chosen event,
// and the JSON API called with the staff token.

import { api } from "./common.js";

export const state = {
  token: null,
  events: [],
  scenes: [],
  selected: null, // slug of the event shown in the detail panel
};

// Listeners for "the events changed" (the list, the detail panel re-render).
const listeners = [];
export function onEventsChanged(callback) {
  listeners.push(callback);
}

export function staff(method, path, body) {
  return api(method, path, { token: state.token, body });
}

export function selectedEvent() {
  return state.events.find((e) => e.slug === state.selected) || null;
}

export async function reloadEvents() {
  const data = await staff("GET", "/api/events");
  state.events = data.events.slice().sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  for (const callback of listeners) callback();
}

// A file of the API as a Blob, fetched with the token (a plain link cannot send it).
export async function fetchBlob(path) {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${state.token}` },
    credentials: "same-origin",
  });
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    throw { status: response.status, code: (data && data.code) || `http_${response.status}`, message: (data && data.message) || response.statusText };
  }
  return response.blob();
}
