// Words for the scene library: sizes, percentages, titles in the page's language, and the
// scene validator's problem codes in the page's language (admin.toml "problem.<code>"; the
// codes are those of hubs_bridge/scenes and the upload's own refusals), with the server's
// English message where a code has no text of its own.

import { el, errorText, fmtNumber, lang, locale, t } from "./common.js";

export function fmtSize(bytes) {
  if (bytes >= 1024 * 1024) return `${fmtNumber(Math.round((bytes / (1024 * 1024)) * 10) / 10)} MB`;
  if (bytes < 1024) return `${fmtNumber(bytes)} B`;
  return `${fmtNumber(Math.round(bytes / 1024))} kB`;
}

export function fmtPercent(percent) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(percent / 100);
}

// {de, en} in the page's language, German when the English is empty.
export function pairText(pair) {
  return pair ? pair[lang()] || pair.de : "";
}

// Same-origin path of a file of the library (the API gives absolute URLs under public_url,
// which a proxy's browser may not reach by that name).
export function localPath(url) {
  try {
    const parsed = new URL(url, location.origin);
    return parsed.pathname + parsed.search;
  } catch (_) {
    return null;
  }
}

// The text of a problem code, or null when the page has none for it.
function known(code) {
  const key = `admin.problem.${code}`;
  const text = t(key);
  return text === key ? null : text;
}

// One problem of a report: the text in the page's language; the server's message (English,
// it says where in the file) beside it, marked as English for screen readers.
export function problemItem({ code, message }, fallback = null) {
  const text = known(code) || fallback || message || t("admin.problem.other", { code });
  const tech = message && message !== text ? el("span", { class: "problem-tech" }, `${t("admin.upload.technical")} `, el("span", { lang: "en" }, message)) : null;
  return el("li", { dataset: { code } }, el("span", { class: "problem-text" }, text), tech ? " " : null, tech);
}

// A refusal that is not a list of the validator's findings (no GLB header, too large, a
// server error): its own text, else the page's text of the error code.
export function refusalItem(err) {
  return problemItem({ code: err.code, message: err.message || "" }, known(err.code) ? null : errorText(err));
}
