// Moderation actions: the buttons of each question, the one dialog for the actions that
// need a text or a choice, the undo toast after a delete, and the keyboard shortcuts.

import { announce, api, el, t } from "./common.js";
import { focusMark, mergeTargets, restoreFocus, visibleOrder } from "./moderator-queue.js";
import { canUndelete, connected, messageOf, render, state, upsert } from "./moderator-state.js";

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

function truncate(text, n = 80) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

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
  if (kind === "merge") {
    $("merge-target").replaceChildren(...mergeTargets(id).map((target) => el("option", { value: target.id }, truncate(target.text))));
  }
  dialog.showModal();
  const first = spec.text ? $("dialog-text") : kind === "reject" ? $("reject-reason") : $("merge-target");
  first.focus();
}

function closeDialog() {
  const dialog = $("action-dialog");
  const id = dialogAction && dialogAction.id;
  const mark = dialogAction && dialogAction.mark;
  dialogAction = null;
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
    merge: () => ({ into: $("merge-target").value }),
  }[kind]();
  if ((kind === "answer" || kind === "edit") && !text.trim()) {
    $("dialog-error").textContent = t("common.error.text_empty");
    $("dialog-text").focus();
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
  setText("toast-text", "moderator.toast.deleted");
  $("undo").hidden = false;
  $("undo").dataset.id = id;
  $("toast").hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 60000);
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

// ---- selection and shortcuts ----

export function focusQuestion(id) {
  if (!id) return;
  state.selected = id;
  render("queue");
  setTimeout(() => {
    const item = document.querySelector(`li.question[data-id="${CSS.escape(id)}"]`);
    if (!item) return;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }, 10);
}

function currentQuestion() {
  const active = document.activeElement;
  const item = active && active.closest && active.closest("li.question");
  return item ? item.dataset.id : state.selected;
}

function move(step) {
  const order = visibleOrder();
  if (!order.length) return;
  const at = order.indexOf(currentQuestion());
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

// A shortcut is a click on a button the focused question shows: nothing when focus is
// outside the queue, or when that question has no such button (r on a rejected one).
const SHORTCUTS = {
  a: [["approve"]],
  r: [["reject"]],
  p: [["pin"], ["unpin"]],
  l: [["answer", "live"]],
  w: [["answer", "written"]],
  e: [["edit"]],
  m: [["merge"]],
  d: [["delete"]],
};

function shortcut(buttons) {
  const active = document.activeElement;
  const item = active && active.closest && active.closest("li.question");
  if (!item) return;
  for (const [action, mode] of buttons) {
    const selector = `.question-actions button[data-action="${action}"]${mode ? `[data-mode="${mode}"]` : ""}`;
    const button = item.querySelector(selector);
    if (button && !button.hidden && button.getAttribute("aria-disabled") !== "true") {
      perform(item.dataset.id, action, mode);
      return;
    }
  }
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  if (target && (TYPING.has(target.tagName) || target.isContentEditable)) return;
  if ($("action-dialog").open || $("console").hidden) return;
  const keys = {
    j: () => move(1),
    k: () => move(-1),
    "/": () => $("queue-search").focus(),
    "?": () => {
      $("shortcuts").open = !$("shortcuts").open;
    },
    z: () => undo(state.lastDeleted),
  };
  for (const [key, buttons] of Object.entries(SHORTCUTS)) keys[key] = () => shortcut(buttons);
  const handler = keys[event.key];
  if (!handler) return;
  event.preventDefault();
  handler();
}

export function setupActions() {
  $("queue-sections").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const item = button && button.closest("li.question");
    if (item) perform(item.dataset.id, button.dataset.action, button.dataset.mode);
  });
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
    state.filter = event.target.value.trim();
    render("queue");
  });
  document.addEventListener("keydown", onKey);
}

export function resetActions() {
  hideToast();
  if ($("action-dialog").open) $("action-dialog").close();
  dialogAction = null;
}
