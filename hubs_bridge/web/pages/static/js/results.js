// The results page: drawn by the server in the chosen language, so a language switch
// draws it again; the print button is shown only where a script can print.
import { onLangChange } from "./common.js";

onLangChange(() => window.location.reload());

const printButton = document.getElementById("print");
if (printButton && typeof window.print === "function") {
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
}
