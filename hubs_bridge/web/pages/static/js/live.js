// The page's connection to /ws (docs/protocol.md): hello/welcome, resume by
// (epoch, seq) without duplicates, reconnect with full-jitter backoff, pings, and an
// outbox of Q&A frames that are sent again after a reconnect until their ack or error.
//
// Questions typed while offline are kept in localStorage, so they are sent exactly
// once when the connection returns, even after a reload: `ask` is idempotent by
// client_msg_id on the server, and the outbox keeps the same id for each question.

import { CLOSE } from "./close-codes.js";

const PING_MS = 20000;
const PONG_TIMEOUT_MS = 10000; // no pong this long after a ping: the socket is half-open
const MAX_BACKOFF_MS = 30000;
const STABLE_MS = 15000;
const VISITOR_KEY = "hb_visitor";
// Idempotent on the server (ask and poll_answer by client_msg_id): safe to send again.
const RESEND_KINDS = new Set(["ask", "vote", "poll_answer"]);
const BY_CLIENT_ID = new Set(["ask", "poll_answer"]); // their client_msg_id is their ref

// How long to wait before reconnect attempt `attempt` (0, 1, ...) after `close`
// ({code, reason}); docs/protocol.md "Close codes and reconnecting". Full jitter.
export function reconnectDelay(attempt, close = {}, random = Math.random) {
  if (close.code === CLOSE.SLOW) return random() * 500; // slow reader: at once, a little jitter
  if (close.code === CLOSE.TOO_MANY) return 60000 + random() * 15000; // rate_limited(_visitors): after a minute
  if (close.code === CLOSE.POLICY) return 120000 + random() * 60000; // too_many_errors: a long backoff
  const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempt));
  return random() * ceiling;
}

// Whether a socket that sent a ping at `pingAt` and last got a pong at `pongAt`
// (performance.now() values, 0 = never) should be given up at `now`.
export function pongOverdue(pingAt, pongAt, now, timeout = PONG_TIMEOUT_MS) {
  return pingAt > 0 && pongAt < pingAt && now - pingAt >= timeout;
}

function unknownOutcome(frame) {
  return {
    type: "error",
    code: "outcome_unknown",
    ref: frame.ref,
    message: "the connection broke before the answer; check whether it was done",
  };
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function storage() {
  try {
    return window.localStorage;
  } catch (_) {
    return null;
  }
}

export class Live {
  // options: {event, room, token, name, onWelcome(snapshot, welcome), onFrame(frame),
  //           onState("connecting"|"open"|"down"|"stopped"), onFatal(code), onError(frame),
  //           onOutbox(pendingAsks), onOutboxError(askFrame, error),
  //           onOutboxRetry(askFrame, error, retryAt: when it goes again, Date.now() ms),
  //           pingMs, pongTimeoutMs}
  // "stopped": the connection ended for good (onFatal follows); nothing reconnects.
  // A `moderate` or `announce` written to a socket that broke before its answer rejects
  // with {code: "outcome_unknown"} after the reconnect (it is never sent twice);
  // `ask`, `vote` and `poll_answer` are sent again (the server keeps them idempotent).
  constructor(options) {
    this.o = options;
    this.room = options.room || null;
    this.token = options.token || null;
    this.name = options.name || null;
    this.epoch = null;
    this.seq = 0;
    this.ws = null;
    this.attempt = 0;
    this.openedAt = 0;
    this.stopped = false;
    this.pending = new Map(); // ref -> {frame, resolve, reject, persistent, sent, retryTimer}
    this.role = null;
    this.outboxKey = `hb_outbox_${options.event}`;
    // Read-only pages (the stage view) pass outbox: false: they never send a visitor's questions.
    if (options.outbox !== false) this.loadOutbox();
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.role !== null;
  }

  start() {
    this.stopped = false;
    this.connect(0);
    if (!this.onOnline) {
      this.onOnline = () => {
        if (!this.ws && !this.stopped) this.connect(0);
      };
      // Offline, a socket's close handshake cannot finish and the browser may wait for it
      // for a long time: give the socket up at once, so the page says "offline" now and
      // questions typed meanwhile go to the outbox. "online" connects again.
      this.onOffline = () => {
        if (this.ws) this.abandon(this.ws, CLOSE.NORMAL, "offline");
      };
      window.addEventListener("online", this.onOnline);
      window.addEventListener("offline", this.onOffline);
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.resendTimer);
    clearTimeout(this.watchdog);
    clearInterval(this.pinger);
    if (this.onOnline) {
      window.removeEventListener("online", this.onOnline);
      window.removeEventListener("offline", this.onOffline);
      this.onOnline = null;
      this.onOffline = null;
    }
    if (this.ws) this.ws.close(CLOSE.NORMAL);
  }

  // Reconnect with another token (sign-in, sign-out): a new hello decides the role.
  reconnect({ token } = {}) {
    if (token !== undefined) this.token = token;
    if (this.ws) {
      this.byeDelay = 0; // asked for: at once
      this.ws.close(CLOSE.NORMAL, "reconnect");
    } else this.connect(0);
  }

  state(value) {
    if (this.o.onState) this.o.onState(value);
  }

  connect(delay) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  open() {
    if (this.stopped) return;
    this.state("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.ws = ws;
    this.role = null;
    ws.onopen = () => {
      const store = storage();
      const hello = { type: "hello", event: this.o.event, room: this.room, token: this.token || null };
      const visitor = store && store.getItem(VISITOR_KEY);
      if (visitor) hello.visitor = visitor;
      if (this.name) hello.name = this.name;
      if (this.epoch !== null) hello.resume = { epoch: this.epoch, seq: this.seq };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    ws.onclose = (close) => this.closed(ws, close);
  }

  closed(ws, close) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.role = null;
    clearInterval(this.pinger);
    clearTimeout(this.watchdog);
    clearTimeout(this.resendTimer);
    if (this.stopped) return;
    let fatal = null;
    if (close.code === CLOSE.UNKNOWN_EVENT || this.byeReason === "event_deleted") fatal = "unknown_event";
    // rate_limited (too many wrong tokens from this address) passes too: try again later.
    else if (close.code === CLOSE.TOO_MANY && !["rate_limited_visitors", "rate_limited"].includes(close.reason)) fatal = close.reason || "too_many_sessions";
    this.byeReason = undefined;
    if (fatal) {
      // Never reconnects: no "we reconnect automatically" banner, and nothing waits for an answer.
      this.stopped = true;
      this.state("stopped");
      this.failPending(fatal);
      if (this.o.onFatal) this.o.onFatal(fatal);
      return;
    }
    this.state("down");
    if (close.code === CLOSE.UNAUTHORIZED) {
      this.token = null; // refused token: continue as a visitor, the page asks to sign in
      if (this.o.onFatal) this.o.onFatal("bad_token");
    }
    if (close.code === CLOSE.BAD_HELLO && close.reason === "unknown_room") this.room = null;
    // The ceiling starts again only after a session that stayed open for a while.
    const stable = this.openedAt && Date.now() - this.openedAt > STABLE_MS;
    this.openedAt = 0;
    if (stable) this.attempt = 0;
    let delay;
    if (this.byeDelay !== undefined) {
      delay = this.byeDelay;
      this.byeDelay = undefined;
    } else {
      delay = reconnectDelay(this.attempt, close);
    }
    this.attempt += 1;
    this.connect(delay);
  }

  // Give up a socket now (no pong): the close handshake of a half-open socket can take
  // minutes, so the page does not wait for its close event.
  abandon(ws, code, reason) {
    try {
      ws.close(code, reason);
    } catch (_) {
      /* already closing */
    }
    this.closed(ws, { code, reason, wasClean: false });
  }

  // The connection ended for good: whatever still waits for an answer gets none.
  failPending(code) {
    for (const [ref, entry] of [...this.pending]) {
      if (entry.persistent) continue; // questions stay in the outbox for a later visit
      this.pending.delete(ref);
      clearTimeout(entry.retryTimer);
      entry.reject(entry.sent ? unknownOutcome(entry.frame) : { type: "error", code, ref: entry.frame.ref, message: code });
    }
  }

  // Write a frame if the session is open; true when it was written.
  send(frame) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  sendEntry(entry) {
    clearTimeout(entry.retryTimer);
    entry.retryTimer = undefined;
    if (this.send(entry.frame)) entry.sent = true;
  }

  ping() {
    const ws = this.ws;
    if (!ws) return;
    if (pongOverdue(this.pingAt, this.pongAt, performance.now(), this.o.pongTimeoutMs ?? PONG_TIMEOUT_MS)) {
      this.abandon(ws, 4000, "timeout");
      return;
    }
    const now = performance.now();
    // One outstanding ping at a time: the watchdog measures from the oldest unanswered one.
    if (!(this.pingAt > this.pongAt) && this.send({ type: "ping", t: now })) {
      this.pingAt = now;
      clearTimeout(this.watchdog);
      const timeout = this.o.pongTimeoutMs ?? PONG_TIMEOUT_MS;
      this.watchdog = setTimeout(() => {
        if (this.ws === ws && pongOverdue(this.pingAt, this.pongAt, performance.now(), timeout)) this.abandon(ws, 4000, "timeout");
      }, timeout + 50);
    }
  }

  // Asks and votes still waiting are sent again after `ms` (an error without a ref, or
  // rate_limited_questions): the server keeps them idempotent.
  scheduleResend(ms) {
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => {
      for (const entry of this.pending.values()) {
        if (RESEND_KINDS.has(entry.frame.type) && entry.retryTimer === undefined) this.sendEntry(entry);
      }
    }, ms);
  }

  receive(frame) {
    switch (frame.type) {
      case "welcome":
        return this.welcome(frame);
      case "snapshot":
        this.epoch = frame.epoch;
        this.seq = frame.seq;
        if (this.o.onWelcome) this.o.onWelcome(frame.snapshot, { recovered: false, role: this.role, snapshot: true });
        return;
      case "ack":
        return this.settle(frame.ref, frame, null);
      case "error":
        return this.refused(frame);
      case "pong":
        this.pongAt = performance.now();
        return;
      case "bye":
        this.byeReason = frame.reason;
        if (frame.reconnect_after_ms !== undefined) this.byeDelay = frame.reconnect_after_ms;
        return;
      default:
        if (frame.seq === undefined) return;
        return this.stream(frame);
    }
  }

  refused(frame) {
    const hasRef = frame.ref !== undefined && frame.ref !== null;
    const entry = hasRef ? this.pending.get(frame.ref) : undefined;
    const wait = frame.retry_after_ms ?? 1000;
    if (!hasRef) {
      // No ref (the frame rate, or the backend): some frame was dropped or its outcome is
      // unknown. Asks and votes go again; a written moderate/announce may or may not be done.
      if (frame.code === "rate_limited" || frame.code === "unavailable") {
        this.scheduleResend(wait);
        for (const [ref, other] of [...this.pending]) {
          if (!RESEND_KINDS.has(other.frame.type) && other.sent) this.settle(ref, null, unknownOutcome(other.frame));
        }
      }
      if (this.o.onError) this.o.onError(frame);
      return;
    }
    if (!entry) {
      if (this.o.onError) this.o.onError(frame); // the answer to something already settled
      return;
    }
    const kind = entry.frame.type;
    const later =
      (kind === "ask" && frame.code === "rate_limited_questions") ||
      (kind === "poll_answer" && String(frame.code).startsWith("rate_limited")) ||
      (RESEND_KINDS.has(kind) && frame.code === "unavailable");
    if (later) {
      // "Try later": the question (or poll answer) waits and goes again with the same id.
      clearTimeout(entry.retryTimer);
      entry.retryTimer = setTimeout(() => this.sendEntry(entry), wait);
      if (this.o.onOutboxRetry && entry.persistent) this.o.onOutboxRetry(entry.frame, frame, Date.now() + wait);
      if (entry.onRetry) entry.onRetry(frame, Date.now() + wait);
      return;
    }
    if (!RESEND_KINDS.has(kind) && frame.code === "unavailable") return this.settle(frame.ref, null, { ...unknownOutcome(entry.frame), cause: frame });
    return this.settle(frame.ref, null, frame);
  }

  welcome(frame) {
    this.role = frame.role;
    this.openedAt = Date.now();
    const store = storage();
    if (store) store.setItem(VISITOR_KEY, frame.visitor);
    this.epoch = frame.epoch;
    this.seq = frame.seq;
    this.pingAt = 0;
    this.pongAt = 0;
    this.state("open");
    clearInterval(this.pinger);
    clearTimeout(this.watchdog);
    this.pinger = setInterval(() => this.ping(), this.o.pingMs ?? PING_MS);
    if (this.o.onWelcome) this.o.onWelcome(frame.snapshot, { recovered: frame.recovered, role: frame.role, visitor: frame.visitor, snapshot: false });
    // Asks and votes that got neither ack nor error are sent again, in their order; a
    // moderate or announce already written may have been done: the page checks (never twice).
    for (const [ref, entry] of [...this.pending]) {
      if (RESEND_KINDS.has(entry.frame.type) || !entry.sent) this.sendEntry(entry);
      else this.settle(ref, null, unknownOutcome(entry.frame));
    }
  }

  stream(frame) {
    if (frame.epoch !== this.epoch) {
      // Another epoch without a snapshot first: start over without resume.
      this.epoch = null;
      this.seq = 0;
      if (this.ws) this.ws.close(CLOSE.NORMAL, "epoch");
      return;
    }
    if (frame.seq <= this.seq) return; // a duplicate
    if (frame.seq > this.seq + 1) {
      if (this.ws) this.ws.close(CLOSE.NORMAL, "gap"); // never expected; resume fills it
      return;
    }
    this.seq = frame.seq;
    if (this.o.onFrame) this.o.onFrame(frame);
  }

  settle(ref, ack, error) {
    const entry = this.pending.get(ref);
    if (!entry) return;
    this.pending.delete(ref);
    clearTimeout(entry.retryTimer);
    if (entry.persistent) this.saveOutbox();
    if (error) entry.reject(error);
    else entry.resolve(ack);
    // A question that failed for good: the page shows its text again (nothing typed is lost).
    if (error && entry.persistent && this.o.onOutboxError) this.o.onOutboxError(entry.frame, error);
  }

  // Send a Q&A frame and wait for its ack (resolves) or error (rejects). `onRetry(error,
  // retryAt)`: the server said "later", the same frame goes again at retryAt.
  request(frame, { persistent = false, onRetry = null } = {}) {
    const ref = BY_CLIENT_ID.has(frame.type) ? frame.client_msg_id : frame.ref || (frame.ref = newId().slice(0, 32));
    return new Promise((resolve, reject) => {
      const entry = { frame, resolve, reject, persistent, sent: false, onRetry };
      this.pending.set(ref, entry);
      if (persistent) this.saveOutbox();
      this.sendEntry(entry);
    });
  }

  // Ask a question; kept in the outbox (localStorage) until the server answers.
  ask(text, { room = null, anonymous = false, name = null } = {}) {
    const frame = { type: "ask", text, client_msg_id: newId(), room, anonymous };
    if (name) frame.name = name;
    return this.request(frame, { persistent: true });
  }

  // Answer a poll (or change the answer): `choices` are option indexes from 0 (a rating
  // 1-5 is 0-4), `text` a text poll's words. Not kept over a reload (an answer is quick to
  // give again), but sent again after a reconnect with the same client_msg_id until the
  // ack: the server counts it once.
  answerPoll(poll, { choices = [], text = null } = {}, { onRetry = null } = {}) {
    return this.request({ type: "poll_answer", poll, choices, text, client_msg_id: newId() }, { onRetry });
  }

  // Whether an answer to `poll` is still waiting for its ack.
  answering(poll) {
    return [...this.pending.values()].some((e) => e.frame.type === "poll_answer" && e.frame.poll === poll);
  }

  vote(question, up = true) {
    return this.request({ type: "vote", question, up });
  }

  moderate(action, question, extra = {}) {
    return this.request({ type: "moderate", action, question, ...extra });
  }

  announce(text, rooms = null) {
    return this.request({ type: "announce", text, rooms });
  }

  enter(room) {
    this.room = room;
    this.send({ type: "enter", room });
  }

  leave(room) {
    if (this.room === room) this.room = null;
    this.send({ type: "leave", room });
  }

  // Questions waiting to be sent (for showing "waiting for connection").
  outbox() {
    return [...this.pending.values()].filter((e) => e.persistent).map((e) => e.frame);
  }

  saveOutbox() {
    const store = storage();
    if (!store) return;
    const frames = this.outbox();
    if (frames.length) store.setItem(this.outboxKey, JSON.stringify(frames));
    else store.removeItem(this.outboxKey);
    if (this.o.onOutbox) this.o.onOutbox(frames);
  }

  loadOutbox() {
    const store = storage();
    if (!store) return;
    let frames = [];
    try {
      frames = JSON.parse(store.getItem(this.outboxKey) || "[]");
    } catch (_) {
      frames = [];
    }
    for (const frame of frames) {
      if (frame && frame.type === "ask" && frame.client_msg_id) {
        // After a reload nobody awaits the promise; the ack still clears the entry.
        this.pending.set(frame.client_msg_id, { frame, resolve() {}, reject() {}, persistent: true, sent: false });
      }
    }
  }
}
