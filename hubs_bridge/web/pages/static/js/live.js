// The page's connection to /ws (docs/protocol.md): hello/welcome, resume by
// (epoch, seq) without duplicates, reconnect with full-jitter backoff, pings, and an
// outbox of Q&A frames that are sent again after a reconnect until their ack or error.
//
// Questions typed while offline are kept in localStorage, so they are sent exactly
// once when the connection returns, even after a reload: `ask` is idempotent by
// client_msg_id on the server, and the outbox keeps the same id for each question.

const PING_MS = 20000;
const MAX_BACKOFF_MS = 30000;
const STABLE_MS = 15000;
const VISITOR_KEY = "hb_visitor";

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
  //           onState("connecting"|"open"|"down"), onFatal(code), onOutbox(pendingAsks)}
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
    this.pending = new Map(); // ref -> {frame, resolve, reject, persistent}
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
    window.addEventListener("online", () => {
      if (!this.ws) this.connect(0);
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000);
  }

  // Reconnect with another token (sign-in, sign-out): a new hello decides the role.
  reconnect({ token } = {}) {
    if (token !== undefined) this.token = token;
    if (this.ws) this.ws.close(1000, "reconnect");
    else this.connect(0);
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
    if (this.stopped) return;
    this.state("down");
    const fatal = { 4404: "unknown_event", 4429: close.reason || "too_many_sessions" };
    if (close.code === 4404 || (close.code === 4429 && close.reason !== "rate_limited_visitors")) {
      if (this.o.onFatal) this.o.onFatal(fatal[close.code]);
      return;
    }
    if (close.code === 4401) {
      this.token = null; // refused token: continue as a visitor, the page asks to sign in
      if (this.o.onFatal) this.o.onFatal("bad_token");
    }
    if (close.code === 4400 && close.reason === "unknown_room") this.room = null;
    if (Date.now() - this.openedAt > STABLE_MS) this.attempt = 0;
    let delay;
    if (this.byeDelay !== undefined) {
      delay = this.byeDelay;
      this.byeDelay = undefined;
    } else if (close.code === 4008) {
      delay = Math.random() * 500;
    } else {
      const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempt);
      delay = Math.random() * ceiling;
    }
    this.attempt += 1;
    this.connect(delay);
  }

  send(frame) {
    if (this.connected) this.ws.send(JSON.stringify(frame));
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
        if (frame.ref !== undefined && this.pending.has(frame.ref)) return this.settle(frame.ref, null, frame);
        if (this.o.onError) this.o.onError(frame);
        return;
      case "pong":
        return;
      case "bye":
        if (frame.reconnect_after_ms !== undefined) this.byeDelay = frame.reconnect_after_ms;
        return;
      default:
        if (frame.seq === undefined) return;
        return this.stream(frame);
    }
  }

  welcome(frame) {
    this.role = frame.role;
    this.openedAt = Date.now();
    const store = storage();
    if (store) store.setItem(VISITOR_KEY, frame.visitor);
    this.epoch = frame.epoch;
    this.seq = frame.seq;
    this.state("open");
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.send({ type: "ping", t: performance.now() }), PING_MS);
    if (this.o.onWelcome) this.o.onWelcome(frame.snapshot, { recovered: frame.recovered, role: frame.role, snapshot: false });
    // Frames that got neither ack nor error are sent again, in their order.
    for (const entry of this.pending.values()) this.send(entry.frame);
  }

  stream(frame) {
    if (frame.epoch !== this.epoch) {
      // Another epoch without a snapshot first: start over without resume.
      this.epoch = null;
      this.seq = 0;
      if (this.ws) this.ws.close(1000, "epoch");
      return;
    }
    if (frame.seq <= this.seq) return; // a duplicate
    if (frame.seq > this.seq + 1) {
      if (this.ws) this.ws.close(1000, "gap"); // never expected; resume fills it
      return;
    }
    this.seq = frame.seq;
    if (this.o.onFrame) this.o.onFrame(frame);
  }

  settle(ref, ack, error) {
    const entry = this.pending.get(ref);
    if (!entry) return;
    this.pending.delete(ref);
    if (entry.persistent) this.saveOutbox();
    if (error) entry.reject(error);
    else entry.resolve(ack);
  }

  // Send a Q&A frame and wait for its ack (resolves) or error (rejects).
  request(frame, { persistent = false } = {}) {
    const ref = frame.type === "ask" ? frame.client_msg_id : frame.ref || (frame.ref = newId().slice(0, 32));
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { frame, resolve, reject, persistent });
      if (persistent) this.saveOutbox();
      this.send(frame);
    });
  }

  // Ask a question; kept in the outbox (localStorage) until the server answers.
  ask(text, { room = null, anonymous = false, name = null } = {}) {
    const frame = { type: "ask", text, client_msg_id: newId(), room, anonymous };
    if (name) frame.name = name;
    return this.request(frame, { persistent: true });
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
        this.pending.set(frame.client_msg_id, { frame, resolve() {}, reject() {}, persistent: true });
      }
    }
  }
}
