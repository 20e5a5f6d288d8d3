// The menu of a question's further actions: a menu button (WAI-ARIA APG "menu button")
// that opens a list of menu items with their shortcut keys beside them.
//
// Built when it opens, inside the question's row, and removed when it closes: a queue
// of a thousand questions carries one menu, not a thousand. Arrow keys, Home and End
// move, Enter or Space choose, Escape closes and Tab leaves; focus goes back to the
// button. An item is an ordinary button with data-action, so choosing it goes the same
// way as the icon buttons (the click handler in moderator-actions.js).

import { el, t } from "./common.js";
import { commandsFor } from "./moderator-commands.js";
import { icon } from "./moderator-icons.js";
import { mergeTargets } from "./moderator-queue.js";
import { connected, state } from "./moderator-state.js";

let open = null; // {button, menu}

function menuItem(command) {
  const label = t(command.label);
  return el(
    "button",
    {
      type: "button",
      role: "menuitem",
      tabindex: "-1",
      class: `menu-item${command.tone ? ` tone-${command.tone}` : ""}`,
      dataset: command.mode ? { action: command.action, mode: command.mode } : { action: command.action },
      "aria-keyshortcuts": command.key || null,
      "aria-disabled": connected() ? null : "true",
    },
    icon(command.icon),
    el("span", { class: "menu-label" }, label),
    command.key ? el("kbd", { "aria-hidden": "true" }, command.key) : null,
  );
}

function items(menu) {
  return [...menu.querySelectorAll('[role="menuitem"]')];
}

function isOpen() {
  return Boolean(open && open.menu.isConnected);
}

export function closeMenu({ focus = false } = {}) {
  if (!open) return;
  const { button, menu } = open;
  open = null;
  menu.remove();
  button.setAttribute("aria-expanded", "false");
  button.removeAttribute("aria-controls");
  if (focus && button.isConnected) button.focus();
}

// Open the menu of `button` (a .question-more); `at`: "first" or "last" item to focus.
export function openMenu(button, at = "first") {
  closeMenu();
  const row = button.closest("li.question");
  const q = row && state.questions.get(row.dataset.id);
  if (!q) return;
  const { menu: commands } = commandsFor(q, row.dataset.section, mergeTargets(q.id).length > 0);
  if (!commands.length) return;
  const menu = el(
    "div",
    { class: "question-menu", role: "menu", id: `qm-${q.id}`, "aria-labelledby": button.id },
    // The dangerous ones (reject, delete) after a line, away from the everyday ones.
    commands.flatMap((command, index) => {
      const item = menuItem(command);
      const lineBefore = command.tone === "danger" && index > 0 && commands[index - 1].tone !== "danger";
      return lineBefore ? [el("div", { role: "separator", class: "menu-separator" }), item] : [item];
    }),
  );
  button.after(menu);
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-controls", menu.id);
  open = { button, menu };
  // Open upwards when the row is near the bottom of the window and there is room above.
  const box = menu.getBoundingClientRect();
  const room = button.getBoundingClientRect();
  menu.classList.toggle("menu-up", box.bottom > window.innerHeight && room.top > box.height);
  const list = items(menu);
  list[at === "last" ? list.length - 1 : 0].focus();
}

function moveFocus(step, to) {
  const list = items(open.menu);
  const at = list.indexOf(document.activeElement);
  let next = to === "first" ? 0 : to === "last" ? list.length - 1 : at + step;
  if (next < 0) next = list.length - 1;
  if (next >= list.length) next = 0;
  list[next].focus();
}

// Keys on a menu button or inside an open menu; true when the key was used.
export function menuKey(event) {
  const target = event.target;
  if (target.classList && target.classList.contains("question-more")) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      openMenu(target, event.key === "ArrowUp" ? "last" : "first");
      return true;
    }
    return false;
  }
  if (!isOpen() || !open.menu.contains(target)) return false;
  const moves = {
    ArrowDown: () => moveFocus(1),
    ArrowUp: () => moveFocus(-1),
    Home: () => moveFocus(0, "first"),
    End: () => moveFocus(0, "last"),
    Escape: () => closeMenu({ focus: true }),
  };
  if (event.key === "Tab") {
    // Leave the menu as if from its button: the next or previous thing on the page.
    closeMenu({ focus: true });
    return false;
  }
  const move = moves[event.key];
  if (!move) return false;
  move();
  return true;
}

// A click on a menu button toggles its menu; a click elsewhere closes an open one.
export function menuClick(event) {
  const button = event.target.closest("button.question-more");
  if (button) {
    if (open && open.button === button) closeMenu({ focus: true });
    else openMenu(button);
    return true;
  }
  if (open && !open.menu.contains(event.target)) closeMenu();
  return false;
}

// Focus went somewhere outside the menu and its button: close it.
export function menuFocusOut(event) {
  if (!open) return;
  const next = event.relatedTarget;
  if (next && (open.menu.contains(next) || open.button === next)) return;
  // Focus moving to nowhere (a click on the page's background) also closes it.
  closeMenu();
}
