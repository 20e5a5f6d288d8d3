// The sections of an open event (details, rooms, Hubs, Q&A, attendance, exports) as a tab
// list (common.js setupTabs: arrow keys, Home and End move between tabs, one tab stop), and
// the address of what is shown: #event/{slug}/{section}, so a view can be linked and reloaded.

import { selectTab, setupTabs } from "./common.js";

export const SECTIONS = ["details", "rooms", "hubs", "qa", "attendance", "exports"];
const HASH = /^#event\/([a-z0-9-]{1,64})(?:\/([a-z]+))?$/;

const tablist = document.getElementById("detail-tabs");
let current = "details";
const listeners = [];

// Called with the section's name whenever another section is shown.
export function onSectionShown(callback) {
  listeners.push(callback);
}

export function currentSection() {
  return current;
}

// {slug, section} of an address such as "#event/kirmes/attendance", or null.
export function parseHash(hash) {
  const m = HASH.exec(hash || "");
  if (!m) return null;
  return { slug: m[1], section: SECTIONS.includes(m[2]) ? m[2] : null };
}

// The address bar says which event and section are shown (no new history entry per tab).
export function writeHash(slug) {
  const hash = slug ? `#event/${slug}/${current}` : "";
  if (location.hash === hash) return;
  history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
}

export function showSection(name) {
  if (!SECTIONS.includes(name)) name = "details";
  const changed = name !== current;
  current = name;
  selectTab(tablist, document.getElementById(`tab-${name}`));
  for (const section of SECTIONS) document.getElementById(`panel-${section}`).hidden = section !== name;
  if (changed) for (const callback of listeners) callback(name);
}

// After a switch far down a long section: the new one starts right below the tab list
// (which stays at the top of the screen), not somewhere above it.
function revealPanel() {
  const panel = document.getElementById(`panel-${current}`);
  const below = tablist.getBoundingClientRect().bottom;
  const top = panel.getBoundingClientRect().top;
  if (top < below) window.scrollBy(0, top - below - 8);
}

// `onSelect(name)` runs after a tab was chosen by a person (click or keys).
export function setupSections({ onSelect }) {
  setupTabs(tablist, (tab) => {
    showSection(tab.dataset.section);
    revealPanel();
    onSelect(current);
  });
}
