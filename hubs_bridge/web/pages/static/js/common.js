// Shared helpers of every page: texts and language, safe DOM building, icons, tabs,
// formatting, the connection indicator and the screen-reader announcer.
//
// Rule of the house: text from people (questions, names, announcements) only ever
// becomes a Text node or textContent; no page ever parses a string as HTML.

const TZ = "Europe/Berlin";
const LANG_COOKIE = "hb_lang";
const LOCALES = { de: "de-DE", en: "en-GB" };

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

const catalogue = readJson("hb-i18n");
export const page = readJson("hb-page");
let current = page.lang === "en" ? "en" : "de";
const langListeners = [];

export function lang() {
  return current;
}

export function locale() {
  return LOCALES[current];
}

// The text of `key` in the current language, `{name}` placeholders filled from `values`.
export function t(key, values) {
  const entry = catalogue[key];
  let text = entry ? entry[current] : key;
  if (values) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  }
  return text;
}

// `key.one` or `key.other` by count, with {n} filled in (localised).
export function tn(key, n, values) {
  const form = formatter("plural", undefined).select(n) === "one" ? "one" : "other";
  return t(`${key}.${form}`, { n: fmtNumber(n), ...(values || {}) });
}

// Elements carry data-i18n="key" (their text) and data-i18n-attr="attr:key;attr:key".
export function applyI18n(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n, node.dataset.i18nValues ? JSON.parse(node.dataset.i18nValues) : undefined);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) node.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function onLangChange(callback) {
  langListeners.push(callback);
}

export function setLang(next) {
  current = next === "en" ? "en" : "de";
  document.documentElement.lang = current;
  const oneYear = 365 * 24 * 3600;
  document.cookie = `${LANG_COOKIE}=${current}; path=/; max-age=${oneYear}; SameSite=Lax`;
  try {
    localStorage.setItem(LANG_COOKIE, current);
  } catch (_) {
    /* private mode: the cookie still remembers */
  }
  applyI18n();
  const button = document.getElementById("lang-switch");
  if (button) button.lang = current === "de" ? "en" : "de";
  for (const callback of langListeners) callback(current);
  announce(t("common.lang.switched"));
}

// Build an element: el("li", {class: "q", dataset: {id}}, "text", child, ...).
// Strings become Text nodes, never markup.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export const ICONS = "/static/img/icons.svg";

// An icon of the sprite (static/img/icons.svg), decorative: the control beside it carries
// the words. icon("vote") -> <svg class="icon" aria-hidden="true"><use href="…#i-vote"/></svg>
export function icon(name, cls = "") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", cls ? `icon ${cls}` : "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `${ICONS}#i-${name}`);
  svg.append(use);
  return svg;
}

// False when the system asks for reduced motion: animations in scripts (Web Animations)
// check this, as the CSS rules check the media query.
export function motionAllowed() {
  return !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
}

// A tablist (WAI-ARIA Authoring Practices, automatic activation): the arrow keys, Home and
// End move between the tabs and select them; only the selected tab is in the tab order.
// `onSelect(tab)` is called on a click or a key; selectTab() marks a tab without calling it.
export function setupTabs(tablist, onSelect) {
  const tabs = () => [...tablist.querySelectorAll('[role="tab"]')];
  tablist.addEventListener("click", (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (!tab || !tablist.contains(tab)) return;
    selectTab(tablist, tab);
    onSelect(tab);
  });
  tablist.addEventListener("keydown", (e) => {
    const all = tabs();
    const index = all.indexOf(document.activeElement);
    if (index < 0) return;
    const vertical = tablist.getAttribute("aria-orientation") === "vertical";
    const next = { [vertical ? "ArrowDown" : "ArrowRight"]: index + 1, [vertical ? "ArrowUp" : "ArrowLeft"]: index - 1, Home: 0, End: all.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const tab = all[(next + all.length) % all.length];
    selectTab(tablist, tab);
    tab.focus();
    onSelect(tab);
  });
  return (tab) => selectTab(tablist, tab);
}

export function selectTab(tablist, chosen) {
  for (const tab of tablist.querySelectorAll('[role="tab"]')) {
    const on = tab === chosen;
    tab.setAttribute("aria-selected", on ? "true" : "false");
    tab.tabIndex = on ? 0 : -1;
  }
}

// `url` if it is an absolute http(s) address, else null (el() then leaves out the href):
// links that come from outside (a Hubs server's room URL) never become javascript: links.
export function httpUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

export function clear(node) {
  node.replaceChildren();
}

// Intl formatters are costly to make (a list of 1,000 questions made one per time shown):
// one per language and options, made once.
const formatters = new Map();

function formatter(kind, options) {
  const key = `${kind}|${locale()}|${JSON.stringify(options)}`;
  let made = formatters.get(key);
  if (!made) {
    if (kind === "number") made = new Intl.NumberFormat(locale(), options);
    else if (kind === "plural") made = new Intl.PluralRules(locale(), options);
    else made = new Intl.DateTimeFormat(locale(), options);
    formatters.set(key, made);
  }
  return made;
}

export function fmtNumber(n) {
  return formatter("number", undefined).format(n);
}

export function fmtDateTime(iso, options) {
  const opts = options || { dateStyle: "full", timeStyle: "short" };
  return formatter("date", { timeZone: TZ, ...opts }).format(new Date(iso));
}

export function fmtTime(iso) {
  return formatter("date", { timeZone: TZ, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

// "in 5 minutes" / "vor 2 Minuten", coarse.
export function fmtRelative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}

// hh:mm:ss (or d hh:mm:ss) until `iso`, for countdowns.
export function fmtCountdown(iso, now = Date.now()) {
  let s = Math.max(0, Math.floor((new Date(iso).getTime() - now) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const pad = (v) => String(v).padStart(2, "0");
  const hms = `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return d > 0 ? `${d} ${t(d === 1 ? "common.day" : "common.days")} ${hms}` : hms;
}

// Title or description in the current language, falling back to German.
export function localized(obj, field) {
  return (current === "en" && obj[`${field}_en`]) || obj[field] || "";
}

// Screen readers hear `text` once (the polite live region in base.html).
export function announce(text) {
  const region = document.getElementById("sr-announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick, so the same message twice is still read.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// The user-facing text of an error frame or HTTP error body.
export function errorText(err) {
  const code = (err && err.code) || "unavailable";
  const known = `common.error.${code}`;
  if (code.startsWith("rate_limited")) return t("common.error.rate_limited");
  if (catalogue[known]) {
    // Context such as a text's limit is a top-level key of the error, never in details.
    return t(known, { max: err.max_chars ?? "" });
  }
  for (const section of ["visitor", "moderator", "admin", "polls"]) {
    if (catalogue[`${section}.error.${code}`]) return t(`${section}.error.${code}`);
  }
  return t("common.error.generic", { code });
}

// The small indicator in the top bar, and a banner only when the connection has been
// down for more than `bannerAfterMs` (no flicker on short blips).
export function connectionIndicator(bannerAfterMs = 4000) {
  const box = document.getElementById("conn");
  const banner = document.getElementById("offline-banner");
  let timer = null;
  if (box) box.hidden = false;
  return (state) => {
    if (box) {
      box.dataset.state = state === "stopped" ? "down" : state;
      const label = box.querySelector(".conn-text");
      label.dataset.i18n = `common.conn.${state === "open" ? "open" : state === "down" || state === "stopped" ? "down" : "connecting"}`;
      label.textContent = t(label.dataset.i18n);
    }
    if (state === "open" || state === "stopped") {
      // "stopped": the page never reconnects (it says why itself), so no "we reconnect" banner.
      clearTimeout(timer);
      timer = null;
      if (banner) banner.hidden = true;
    } else if (timer === null && banner && banner.hidden) {
      timer = setTimeout(() => {
        banner.hidden = false;
        timer = null;
      }, bannerAfterMs);
    }
  };
}

// A token kept for this tab only (sessionStorage), never in a URL.
export const tokenStore = {
  get(kind) {
    try {
      return sessionStorage.getItem(`hb_token_${kind}`);
    } catch (_) {
      return null;
    }
  },
  set(kind, token) {
    try {
      if (token) sessionStorage.setItem(`hb_token_${kind}`, token);
      else sessionStorage.removeItem(`hb_token_${kind}`);
    } catch (_) {
      /* storage blocked: the token lives as long as the page */
    }
  },
};

// fetch() of the JSON API with the token; resolves to the body, rejects with the error body
// ({code, message, details?, context keys such as retry_after_s}) and the status.
export async function api(method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const body = data && typeof data === "object" ? data : {};
    throw { ...body, status: response.status, code: body.code || `http_${response.status}`, message: body.message || response.statusText, details: Array.isArray(body.details) ? body.details : [] };
  }
  return data;
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    // Clipboard blocked (http, permissions): select a temporary field instead.
    const field = el("textarea", { class: "visually-hidden", readonly: true }, text);
    document.body.append(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
  if (button) {
    const before = button.textContent;
    button.textContent = t("common.copied");
    setTimeout(() => {
      button.textContent = before;
    }, 1500);
  }
  announce(t("common.copied"));
}

function setupLanguageSwitch() {
  const button = document.getElementById("lang-switch");
  if (button) button.addEventListener("click", () => setLang(current === "de" ? "en" : "de"));
}

setupLanguageSwitch();
