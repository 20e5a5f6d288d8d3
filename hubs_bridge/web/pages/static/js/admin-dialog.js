// A confirmation in a <dialog> (not window.confirm), naming what gets deleted.

import { t } from "./common.js";

const dialog = document.getElementById("confirm-dialog");

// Resolves true when the person confirms, false on cancel or Escape. Focus returns to `opener`.
export function confirmDelete({ title, text, opener }) {
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = t("admin.delete");
  document.getElementById("confirm-cancel").textContent = t("admin.cancel");
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue === "ok");
      if (opener && opener.isConnected) opener.focus();
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", done);
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}
