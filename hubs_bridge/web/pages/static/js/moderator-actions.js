// Moderation actions: the buttons and menu of each question, the one dialog for the
// actions that need a text or a choice, the undo toast after a delete, and the keyboard
// shortcuts (each acts on the focused question or says why it does not).

import { announce, api, t } from "./common.js";
import { QUESTION_KEYS, commandForKey, whyNot } from "./moderator-commands.js";
import { closeMenu, menuClick, menuFocusOut, menuKey, openMenu } from "./moderator-menu.js";
import { closeMerge, mergeChoice, openMerge, setupMerge } from "./moderator-merge.js";
import { focusMark, mergeTargets, restoreFocus, visibleOrder } from "./moderator-queue.js";
import { toggleExpanded } from "./moderator-row.js";
import { canUndelete, connected, messageOf, render, sectionOf, state, upsert } from "./moderator-state.js";

const $ = (id) => document.getElementById(id);

function setText(id, key) {
  $(id).dataset.i18n = key;
  $(id).textContent = t(key);
}

// Everything the moderator view of the store says now (after a version conflict).
async function refreshQuestions() {
  try {
    const data = await api("GET", `/api/events/${encodeURIComponent(state.event)}/questions?sort=new`, { token: state.token });
    // The stream may already have brought a later version: upsert keeps the newest.
    for (const q of data.questions) upsert(q);
    render("queue");
  } catch (_) {
    /* the stream keeps the queue current anyway */
  }
}

// Send one action; resolves to the ack, rejects with the error frame (already shown).
export async function act(id, action, extra = {}, { quiet = false } = {}) {
  if (!state.live) return null;
  state.errors.delete(id);
  try {
    const ack = await state.live.moderate(action, id, extra);
    if (ack && ack.question) upsert(ack.question);
    render("queue");
    if (action === "delete") showUndo(id);
    if (!quiet) announce(t(`moderator.done.${action}`));
    return ack;
  } catch (err) {
    // A conflict, or an action sent before the connection dropped whose outcome is not
    // known: show what the store says now, so the moderator can check and retry.
    if (err && (err.code === "version_conflict" || err.code === "outcome_unknown")) refreshQuestions();
    if (!quiet) {
      state.errors.set(id, err);
      announce(messageOf(err));
      render("queue");
    }
    throw err;
  }
}

function actQuietly(id, action, extra) {
  act(id, action, extra).catch(() => {
    /* shown next to the question */
  });
}

// ---- the dialog ----

let dialogAction = null; // {kind, id, mark}: mark says where focus goes back to

const DIALOGS = {
  reject: { title: "moderator.dialog.reject", submit: "moderator.action.reject" },
  answer: { title: "moderator.dialog.answer", submit: "moderator.dialog.save", text: "moderator.dialog.answer_text", help: "moderator.dialog.text_help" },
  reply: { title: "moderator.dialog.reply", submit: "moderator.dialog.save", text: "moderator.dialog.reply_text", help: "moderator.dialog.reply_help" },
  edit: { title: "moderator.dialog.edit", submit: "moderator.dialog.save", text: "moderator.dialog.edit_text", help: "moderator.dialog.text_help" },
  merge: { title: "moderator.dialog.merge", submit: "moderator.action.merge" },
};

export function openDialog(kind, id) {
  const q = state.questions.get(id);
  const dialog = $("action-dialog");
  if (!q || !dialog) return;
  const spec = DIALOGS[kind];
  dialogAction = { kind, id, mark: focusMark() };
  // data-i18n: the language switch re-translates an open dialog too.
  setText("dialog-title", spec.title);
  $("dialog-question").textContent = q.text;
  setText("dialog-submit", spec.submit);
  $("dialog-error").textContent = "";
  $("dialog-reason-field").hidden = kind !== "reject";
  $("dialog-merge-field").hidden = kind !== "merge";
  $("dialog-text-field").hidden = !spec.text;
  if (spec.text) {
    setText("dialog-text-label", spec.text);
    setText("dialog-text-help", spec.help);
    $("dialog-text").value = { answer: q.answer, reply: q.reply, edit: q.text }[kind] || "";
  }
  if (kind === "reject") $("reject-reason").value = q.reject_reason || "off_topic";
  const pick = kind === "merge" ? openMerge(id) : null;
  dialog.showModal();
  const first = spec.text ? $("dialog-text") : kind === "reject" ? $("reject-reason") : pick;
  first.focus();
}

function closeDialog() {
  const dialog = $("action-dialog");
  const id = dialogAction && dialogAction.id;
  const mark = dialogAction && dialogAction.mark;
  dialogAction = null;
  closeMerge();
  if (dialog.open) dialog.close();
  if (!mark) return focusQuestion(id);
  // Back where the moderator was: the question, or its neighbour if it left the section.
  render("queue");
  setTimeout(() => restoreFocus(mark), 10);
  return undefined;
}

async function submitDialog(event) {
  event.preventDefault();
  if (!dialogAction) return;
  const { kind, id } = dialogAction;
  const text = $("dialog-text").value;
  const extra = {
    reject: () => ({ reason: $("reject-reason").value }),
    answer: () => ({ mode: "written", text }),
    reply: () => ({ text: text.trim() ? text : null }),
    edit: () => ({ text }),
    merge: () => ({ into: mergeChoice() }),
  }[kind]();
  if ((kind === "answer" || kind === "edit") && !text.trim()) {
    $("dialog-error").textContent = t("common.error.text_empty");
    $("dialog-text").focus();
    return;
  }
  if (kind === "merge" && !extra.into) {
    $("dialog-error").textContent = t("moderator.merge.none_chosen");
    $("merge-search").focus();
    return;
  }
  $("dialog-submit").disabled = true;
  try {
    await act(id, kind, extra, { quiet: true });
    announce(t(`moderator.done.${kind}`));
    closeDialog();
  } catch (err) {
    $("dialog-error").textContent = messageOf(err);
  } finally {
    $("dialog-submit").disabled = false;
  }
}

// ---- undo after delete ----

let toastTimer = null;

function showUndo(id) {
  state.lastDeleted = id;
  delete $("toast-text").dataset.i18nValues;
  setText("toast-text", "moderator.toast.deleted");
  $("undo").hidden = false;
  $("undo").dataset.id = id;
  $("toast").hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 60000);
}

// Why a key did nothing: shown where the eye is (the toast) and said to screen readers.
function hint(key, values) {
  const text = $("toast-text");
  text.dataset.i18n = key;
  if (values) text.dataset.i18nValues = JSON.stringify(values);
  else delete text.dataset.i18nValues;
  text.textContent = t(key, values);
  $("undo").hidden = true;
  $("toast").hidden = false;
  announce(text.textContent);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 6000);
}

function hideToast() {
  clearTimeout(toastTimer);
  $("toast").hidden = true;
}

function undo(id) {
  const q = id && state.questions.get(id);
  if (!q || !canUndelete(q) || !connected()) return;
  hideToast();
  act(id, "undelete").then(() => focusQuestion(id), () => {});
}

// z: the focused question if it is deleted, else the last one deleted here.
function undoKey(focused) {
  const q = focused && state.questions.get(focused);
  const id = q && q.deleted_at ? q.id : state.lastDeleted;
  const target = id && state.questions.get(id);
  if (!target || !target.deleted_at) return hint("moderator.why.nothing_to_undo");
  if (!canUndelete(target)) return hint("moderator.error.undo_expired");
  if (!connected()) return hint("moderator.why.offline");
  return undo(id);
}

// ---- selection and shortcuts ----

export function focusQuestion(id) {
  if (!id) return;
  state.selected = id;
  render("queue");
  setTimeout(() => {
    // A later j or k chose another question meanwhile: that one gets the focus.
    if (state.selected !== id) return;
    const item = document.querySelector(`li.question[data-id="${CSS.escape(id)}"]`);
    if (!item) return;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }, 10);
}

function move(step) {
  const order = visibleOrder();
  if (!order.length) return;
  // From the selected question: focus follows it a moment later (after the redraw), and
  // a quick second j must not start again from where focus still is.
  const at = order.indexOf(state.selected || focusedQuestion());
  const next = at === -1 ? (step > 0 ? 0 : order.length - 1) : Math.min(order.length - 1, Math.max(0, at + step));
  focusQuestion(order[next]);
}

// A button press or shortcut on question `id` (nothing while the connection is down:
// the buttons say so with aria-disabled).
function perform(id, action, mode) {
  const q = state.questions.get(id);
  if (!q || !connected()) return;
  state.selected = id;
  if (action === "answer" && mode !== "written") return actQuietly(id, "answer", { mode: "live" });
  if (action === "answer" || action === "reject" || action === "reply" || action === "edit" || action === "merge") {
    return openDialog(action, id);
  }
  return actQuietly(id, action);
}

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function focusedQuestion() {
  const active = document.activeElement;
  const item = active && active.closest && active.closest("li.question");
  return item ? item.dataset.id : null;
}

// A shortcut acts on the focused question (never on one merely selected while focus is
// elsewhere: d would delete unseen) as its button or menu item would; or says why not.
function shortcut(key) {
  const id = focusedQuestion();
  const q = id && state.questions.get(id);
  if (!q) return hint("moderator.why.no_question");
  const section = sectionOf(q);
  const hasTargets = mergeTargets(id).length > 0;
  const command = commandForKey(q, section, hasTargets, key);
  if (!command) return hint(whyNot(q, section, hasTargets, key), { key });
  if (!connected()) return hint("moderator.why.offline");
  closeMenu({ focus: true });
  return perform(id, command.action, command.mode);
}

// The menu of the focused question (the "." key).
function menuOfFocused() {
  const id = focusedQuestion();
  const item = id && document.querySelector(`li.question[data-id="${CSS.escape(id)}"]`);
  const button = item && item.querySelector(".question-more");
  if (!item) return hint("moderator.why.no_question");
  if (!button) return hint("moderator.why.no_menu");
  return openMenu(button);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  if (target && (TYPING.has(target.tagName) || target.isContentEditable)) return;
  if ($("action-dialog").open || $("console").hidden) return;
  if (menuKey(event)) {
    event.preventDefault();
    return;
  }
  const keys = {
    j: () => move(1),
    k: () => move(-1),
    ".": menuOfFocused,
    "/": () => $("queue-search").focus(),
    "?": toggleHelp,
    z: () => undoKey(focusedQuestion()),
  };
  for (const key of QUESTION_KEYS) keys[key] = () => shortcut(key);
  const handler = keys[event.key];
  if (!handler) return;
  event.preventDefault();
  handler();
}

function toggleHelp() {
  const help = $("shortcuts");
  help.open = !help.open;
  if (help.open) help.scrollIntoView({ block: "nearest" });
}

export function setupActions() {
  // Clicks anywhere on the page close an open menu; in the queue they act.
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || menuClick(event)) return undefined;
    const expand = event.target.closest("button.question-expand");
    if (expand) return toggleExpanded(expand.closest("li.question"));
    const button = event.target.closest("#queue-sections button[data-action]");
    const item = button && button.closest("li.question");
    if (!item) return undefined;
    // From the menu: close it first, so focus is back on its button when a dialog
    // opens (and returns there when the dialog closes).
    if (button.closest(".question-menu")) closeMenu({ focus: true });
    return perform(item.dataset.id, button.dataset.action, button.dataset.mode);
  });
  $("queue-sections").addEventListener("focusout", menuFocusOut);
  $("queue-sections").addEventListener("focusin", (event) => {
    const item = event.target.closest("li.question");
    if (item && state.selected !== item.dataset.id) {
      state.selected = item.dataset.id;
      for (const other of document.querySelectorAll("li.question.selected")) {
        other.classList.remove("selected");
        other.removeAttribute("aria-current");
        other.tabIndex = -1;
      }
      item.classList.add("selected");
      item.setAttribute("aria-current", "true");
      item.tabIndex = 0;
    }
  });
  $("dialog-form").addEventListener("submit", submitDialog);
  $("dialog-cancel").addEventListener("click", closeDialog);
  $("action-dialog").addEventListener("cancel", (event) => {
    event.preventDefault();
    closeDialog();
  });
  $("undo").addEventListener("click", () => undo($("undo").dataset.id));
  $("toast-close").addEventListener("click", hideToast);
  $("queue-search").addEventListener("input", (event) => {
    state.search = event.target.value.trim();
    render("queue");
  });
  setupMerge();
  document.addEventListener("keydown", onKey);
}

export function resetActions() {
  hideToast();
  if ($("action-dialog").open) $("action-dialog").close();
  dialogAction = null;
}
