// One WebSocket per tab on the user socket (/ws/chat/), kept open for as long as the
// user is logged in:
//
//   - reconnects with exponential back-off and jitter after a close or a dead peer
//     (no pong), and at once when the browser comes back online;
//   - keeps a cursor (last applied `seq`) per conversation, sends them as `since` on
//     every connect, and drops any durable frame at or below its cursor, so catch-up
//     never shows a gap or a duplicate;
//   - authenticates with an `auth` frame (the token is never in the URL), refreshes
//     the access token on a 4401 close, and sends a fresh one in an `auth` frame
//     before the current one expires;
//   - turns commands into promises: `request(frame)` resolves with the `ack` or
//     rejects with the `error` frame that echoes its `ref`.

import { accessExpiresIn, accessToken, refreshTokens } from "./api.js";
import { socketErrorText } from "./errors.js";

const PING_EVERY_MS = 25000;
const PONG_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 15000;
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30000;

export class SocketError extends Error {
  constructor(code, detail) {
    super(socketErrorText(code, detail));
    this.code = code;
  }
}

export class ChatSocket {
  /**
   * onFrame(frame): every frame to apply (durable ones de-duplicated by seq).
   * onState(state, info): "connecting" | "open" | "waiting" (info.retryIn ms) | "offline" | "closed".
   * onSessionEnded(): the refresh token is no longer valid.
   */
  constructor({ onFrame, onState, onSessionEnded }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.onSessionEnded = onSessionEnded;
    this.cursors = new Map(); // conversation id -> last seq applied
    this.ws = null;
    this.state = "closed";
    this.delay = MIN_DELAY_MS;
    this.nextRef = 1;
    this.pending = new Map(); // ref -> {resolve, reject, timer}
    this.timers = {};
    this.stopped = true;
    this.readyOnce = false;
    this.handleOnline = () => this.state !== "open" && this.state !== "connecting" && this.reconnectNow();
    this.handleOffline = () => this.abandon();
  }

  // --- Cursors ---------------------------------------------------------------------------

  /** Raise the cursor of a conversation (never lowers it). */
  advance(conversationId, seq) {
    const key = Number(conversationId);
    if (!(seq >= (this.cursors.get(key) ?? -1))) return;
    this.cursors.set(key, seq);
  }

  forget(conversationId) {
    this.cursors.delete(Number(conversationId));
  }

  since() {
    const since = {};
    for (const [id, seq] of this.cursors) since[id] = seq;
    return since;
  }

  // --- Lifecycle -------------------------------------------------------------------------

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.handleOnline);
    window.addEventListener("offline", this.handleOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.handleOnline);
    window.removeEventListener("offline", this.handleOffline);
    this.clearTimers();
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000);
      this.ws = null;
    }
    this.failPending(new SocketError("closed", "Disconnected."));
    this.cursors.clear();
    this.setState("closed");
  }

  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.timers.retry);
    this.delay = MIN_DELAY_MS;
    if (this.ws) this.abandon();
    else this.connect();
  }

  /** Give up on the current socket now, without waiting for a closing handshake that a
   * dead network would never complete, and go through the usual reconnect path. */
  abandon() {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
    this.closed(ws, { code: 1006 });
  }

  /** The access token changed (refreshed in this or another tab): hand it to the server. */
  tokenChanged() {
    if (this.state === "open") {
      this.request({ type: "auth", token: accessToken() }).catch(() => this.abandon());
      this.scheduleTokenRenewal();
    }
  }

  setState(state, info = {}) {
    this.state = state;
    this.onState(state, info);
  }

  clearTimers() {
    for (const t of Object.values(this.timers)) clearTimeout(t);
    this.timers = {};
  }

  connect() {
    if (this.stopped) return;
    const token = accessToken();
    if (!token) {
      this.onSessionEnded();
      return;
    }
    this.setState("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const since = encodeURIComponent(JSON.stringify(this.since()));
    // The token goes in the first frame, never in the URL: URLs end up in proxy logs,
    // the browser's history of connections and error reports.
    const ws = new WebSocket(`${scheme}//${location.host}/ws/chat/?since=${since}`);
    this.ws = ws;
    ws.onopen = () => {
      if (ws === this.ws) ws.send(JSON.stringify({ type: "auth", token: accessToken() || token }));
    };
    // A handshake that never completes (a half-open network) is abandoned.
    this.timers.connect = setTimeout(() => this.abandon(), REQUEST_TIMEOUT_MS);
    ws.onmessage = (event) => this.receive(event);
    ws.onclose = (event) => this.closed(ws, event);
    ws.onerror = () => {}; // a close follows
  }

  async closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.clearTimers();
    this.failPending(new SocketError("disconnected", "The connection dropped."));
    if (this.stopped) return;
    let delay = this.delay;
    if (event.code === 4401) {
      const ok = await refreshTokens();
      if (ok === false) {
        this.onSessionEnded();
        return;
      }
      if (ok) delay = 0; // a fresh token: try again at once
    } else if (event.code === 4429) {
      delay = Math.max(delay, 10000);
    }
    if (this.stopped) return;
    this.delay = Math.min(Math.max(this.delay, MIN_DELAY_MS) * 2, MAX_DELAY_MS);
    const wait = delay === 0 ? 0 : Math.round(delay * (0.5 + Math.random()));
    if (!navigator.onLine) {
      this.setState("offline");
      return; // the "online" event reconnects
    }
    this.setState("waiting", { retryIn: wait, code: event.code });
    this.timers.retry = setTimeout(() => this.connect(), wait);
  }

  receive(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    this.alive();
    // Transport bookkeeping only; state.js applies every frame in its one dispatcher.
    if (frame.type === "pong") return;
    if ((frame.type === "ack" || frame.type === "error") && this.settle(frame)) return;
    if (frame.type === "ready") this.ready(frame);
    else if (frame.type === "conversation.created") {
      // The server starts this conversation's cursor at the snapshot's last_seq.
      this.advance(frame.conversation.id, frame.conversation.last_seq);
    } else if (frame.type === "conversation.removed") {
      this.forget(frame.conversation.id);
    } else if (typeof frame.seq === "number" && frame.conversation !== undefined) {
      const key = Number(frame.conversation);
      const cursor = this.cursors.get(key);
      if (cursor !== undefined && frame.seq <= cursor) return; // already applied
      this.cursors.set(key, frame.seq);
    }
    this.onFrame(frame);
  }

  /** Resolve or reject the request an `ack`/`error` answers; false if none waits for it. */
  settle(frame) {
    if (frame.ref === undefined || frame.ref === null || !this.pending.has(frame.ref)) return false;
    const entry = this.pending.get(frame.ref);
    this.pending.delete(frame.ref);
    clearTimeout(entry.timer);
    if (frame.type === "ack") entry.resolve(frame);
    else entry.reject(new SocketError(frame.code, frame.detail));
    return true;
  }

  /** `ready` ends the catch-up: its cursors are the server's, and it resets the back-off. */
  ready(frame) {
    const cursors = frame.conversations || {};
    for (const [id, seq] of Object.entries(cursors)) this.advance(id, seq);
    for (const id of [...this.cursors.keys()]) if (!(String(id) in cursors)) this.cursors.delete(id);
    clearTimeout(this.timers.connect);
    this.delay = MIN_DELAY_MS;
    frame.reconnected = this.readyOnce;
    this.readyOnce = true;
    this.setState("open");
    this.scheduleTokenRenewal();
  }

  /** Any frame proves the peer alive; with none for a while, ping, and give up on silence. */
  alive() {
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.dead);
    this.timers.ping = setTimeout(() => {
      this.send({ type: "ping" });
      this.timers.dead = setTimeout(() => this.abandon(), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  scheduleTokenRenewal() {
    clearTimeout(this.timers.renew);
    const seconds = accessExpiresIn();
    if (!seconds) return;
    // Renew a minute before expiry (a quarter of the lifetime for short-lived tokens).
    const inMs = Math.max(5000, (seconds - Math.min(60, seconds / 4)) * 1000);
    this.timers.renew = setTimeout(async () => {
      if ((await refreshTokens()) === false) this.onSessionEnded();
      // A successful refresh emits "tokens", which calls tokenChanged().
    }, inMs);
  }

  // --- Commands --------------------------------------------------------------------------

  get isOpen() {
    return this.state === "open" && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Send a command and wait for its ack; rejects with a SocketError. */
  request(frame) {
    return new Promise((resolve, reject) => {
      if (!this.isOpen && frame.type !== "auth") {
        reject(new SocketError("not_connected", "Not connected."));
        return;
      }
      const ref = this.nextRef++;
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new SocketError("timeout", "The server did not answer."));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
      if (!this.send({ ...frame, ref })) {
        clearTimeout(timer);
        this.pending.delete(ref);
        reject(new SocketError("not_connected", "Not connected."));
      }
    });
  }

  failPending(error) {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.pending.clear();
  }
}
