// Downloads of the chosen event: attendance (per room, per minute, the chart), questions
// and polls, fetched with the staff token (a plain link cannot send it) and saved under the
// name the server gives them.

import { announce, el, errorText, lang, t } from "./common.js";
import { fetchBlob, selectedEvent } from "./admin-state.js";

const errorBox = document.getElementById("download-error");

async function download(button) {
  const event = selectedEvent();
  if (!event) return;
  const file = button.dataset.download;
  const query = file.endsWith(".svg") ? `?lang=${lang()}` : "";
  errorBox.hidden = true;
  try {
    const blob = await fetchBlob(`/api/events/${encodeURIComponent(event.slug)}/${file}${query}`);
    const url = URL.createObjectURL(blob);
    const name = `${event.slug}-${file}`; // as the server names it
    const link = el("a", { href: url, download: name, class: "visually-hidden" }, name);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(t("admin.downloads.started", { file: name }));
  } catch (err) {
    errorBox.textContent = errorText(err);
    errorBox.hidden = false;
  }
}

export function resetExports() {
  errorBox.hidden = true;
}

export function setupExports() {
  for (const button of document.querySelectorAll("[data-download]")) button.addEventListener("click", () => download(button));
}
