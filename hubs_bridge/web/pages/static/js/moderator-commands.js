// What a moderator can do to a question where it stands: the two main actions shown as
// icon buttons on its row, the others in its menu, each with its shortcut key; and, for
// a key that does nothing there, the reason (every shortcut acts or says why).
//
// Pure: a question and its part of the queue in, commands out. The rows, the menu and
// the keyboard all read from here, so a button, a menu item and a key never disagree.

import { canUndelete } from "./moderator-state.js";

// name -> {action, mode, key, icon, label, tone}; `action`/`mode` are what is sent.
export const COMMANDS = {
  approve: { action: "approve", key: "a", icon: "check", label: "moderator.action.approve", tone: "ok" },
  reject: { action: "reject", key: "r", icon: "x", label: "moderator.action.reject", tone: "danger" },
  pin: { action: "pin", key: "p", icon: "pin", label: "moderator.action.pin" },
  unpin: { action: "unpin", key: "p", icon: "unpin", label: "moderator.action.unpin" },
  live: { action: "answer", mode: "live", key: "l", icon: "answer", label: "moderator.action.answer_live" },
  written: { action: "answer", mode: "written", key: "w", icon: "reply", label: "moderator.action.answer_written" },
  change: { action: "answer", mode: "written", key: "w", icon: "reply", label: "moderator.action.answer_change" },
  reply: { action: "reply", icon: "info", label: "moderator.action.reply" },
  edit: { action: "edit", key: "e", icon: "edit", label: "moderator.action.edit" },
  merge: { action: "merge", key: "m", icon: "merge", label: "moderator.action.merge" },
  delete: { action: "delete", key: "d", icon: "trash", label: "moderator.action.delete", tone: "danger" },
  undelete: { action: "undelete", key: "z", icon: "undo", label: "moderator.action.undelete" },
};

// The keys that act on the focused question (z also undoes the last delete anywhere).
export const QUESTION_KEYS = ["a", "r", "p", "l", "w", "e", "m", "d"];

const pick = (...names) => names.filter(Boolean).map((name) => ({ name, ...COMMANDS[name] }));

// {primary, menu}: lists of commands for question `q` in `section` of the queue.
// `hasTargets`: whether another approved question exists to merge this one into.
export function commandsFor(q, section, hasTargets) {
  const pinning = q.pinned ? "unpin" : "pin";
  const written = q.answered === "written" ? "change" : "written";
  const live = q.answered !== "live" ? "live" : null;
  const merge = hasTargets ? "merge" : null;
  switch (section) {
    case "pending":
      return { primary: pick("approve", "reject"), menu: pick(live, written, "reply", "edit", merge, "delete") };
    case "approved":
      return { primary: pick(pinning, "live"), menu: pick(written, "reply", "edit", merge, "reject", "delete") };
    case "answered":
      return { primary: pick(pinning, written), menu: pick(live, "reply", "edit", merge, "reject", "delete") };
    case "rejected":
      return { primary: pick("approve", "delete"), menu: pick("edit") };
    case "deleted":
      return { primary: pick(canUndelete(q) ? "undelete" : null), menu: [] };
    default: // merged: its votes and names live on in the other question
      return { primary: [], menu: [] };
  }
}

// The command that `key` stands for on this question, or null.
export function commandForKey(q, section, hasTargets, key) {
  const { primary, menu } = commandsFor(q, section, hasTargets);
  return [...primary, ...menu].find((c) => c.key === key) || null;
}

// Why `key` does nothing on this question: a text key of moderator.toml.
export function whyNot(q, section, hasTargets, key) {
  if (section === "deleted") return "moderator.why.deleted";
  if (section === "merged") return "moderator.error.question_merged";
  if (key === "a") return "moderator.why.approved";
  if (key === "r") return "moderator.why.rejected";
  if (key === "p") return "moderator.error.question_not_approved";
  if (section === "rejected") return "moderator.why.rejected_first";
  if (key === "l") return "moderator.why.answered_live";
  if (key === "m" && !hasTargets) return "moderator.why.no_targets";
  return "moderator.why.not_here";
}
