// One open realtime session: two sockets (the customer's, the provider's) and the pump between
// them. Each frame goes through the meter with its opcode kept; the budget comes from the
// session's account (session.ts). Backpressure both ways: a side whose send buffer passes the
// high-water mark pauses the other side's socket until it drains; a frame waiting for a
// reservation pauses its sender the same way. Close codes and reasons pass through unchanged.

import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Outcome } from '../../ledger/types.js';
import { sendableCode } from './handshake.js';
import type { SessionAccount } from './session.js';
import type { CutReason, Frame, FrameVerdict, SessionMeter } from './types.js';

/** Hooks for metrics (proxy/metrics.ts implements them); the relay never imports prom-client. */
export interface RealtimeEvents {
  sessionOpened?(provider: string): void;
  /** `end`: client_close, provider_close, client_gone, provider_gone, cut, idle, shutdown, error. */
  sessionClosed?(provider: string, end: string): void;
  /** Frames and bytes relayed since the last report (flushed by the sweep, not per frame). */
  frames?(provider: string, direction: 'client' | 'provider', frames: number, bytes: number): void;
  cut?(provider: string, reason: CutReason): void;
}

export interface RelayOptions {
  sessionId: string;
  provider: string;
  client: WebSocket;
  upstream: WebSocket;
  meter: SessionMeter;
  account: SessionAccount;
  /** The endpoint strips credentials from the first client frame (ElevenLabs). */
  firstMessage?: ((f: Frame) => Frame) | undefined;
  /** Client frames that arrived before the relay started (first-message auth). */
  early?: Frame[];
  /** Provider frames that arrived before the relay started. */
  earlyProvider?: Frame[];
  idleMs: number;
  highWaterMark: number;
  logger: Logger;
  events?: RealtimeEvents | undefined;
  now(): number;
  onEnd(s: RelaySession): void;
}

/** How long the second side gets to finish its closing handshake before it is cut. */
const LINGER_MS = 5_000;
const RETRY_RESERVE_MS = 500;
// ws copies these into its own options object: shared, so a frame allocates none of its own.
const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

type End = 'client_close' | 'provider_close' | 'client_gone' | 'provider_gone' | 'cut' | 'idle' | 'shutdown' | 'error';

export class RelaySession {
  readonly sessionId: string;
  readonly provider: string;
  private readonly o: RelayOptions;
  private readonly queue: Frame[] = [];
  private blocked = false;
  private firstPending: boolean;
  /** Set once tollgate or either side started closing: client frames are dropped from then on. */
  private closing = false;
  private end: End | undefined;
  private outcome: Outcome = 'ok';
  private complete = true;
  private clientClosed = false;
  private upstreamClosed = false;
  private closeCode: number | undefined;
  private linger: NodeJS.Timeout | undefined;
  /** When the sweep last saw a frame; `active`: a frame came since (no clock read per frame). */
  private lastActivity: number;
  private active = false;
  private clientAlive = true;
  private upstreamAlive = true;
  readonly opened: number;
  private ended = false;
  // Counters since the last flush, and in total.
  private cf = 0;
  private cb = 0;
  private pf = 0;
  private pb = 0;
  private totalFrames = 0;
  private totalBytes = 0;

  constructor(o: RelayOptions) {
    this.o = o;
    this.sessionId = o.sessionId;
    this.provider = o.provider;
    this.firstPending = o.firstMessage !== undefined;
    this.opened = this.lastActivity = o.now();
    const { client, upstream } = o;
    client.on('message', (data: Buffer, isBinary: boolean) => this.fromClient({ data, binary: isBinary }));
    upstream.on('message', (data: Buffer, isBinary: boolean) => this.fromProvider({ data, binary: isBinary }));
    client.on('close', (code: number, reason: Buffer) => this.onClientClose(code, reason));
    upstream.on('close', (code: number, reason: Buffer) => this.onUpstreamClose(code, reason));
    client.on('error', (err) => o.logger.debug({ sessionId: o.sessionId, err: err.message }, 'client socket error'));
    upstream.on('error', (err) => o.logger.debug({ sessionId: o.sessionId, err: err.message }, 'provider socket error'));
    client.on('pong', () => (this.clientAlive = true));
    upstream.on('pong', () => (this.upstreamAlive = true));
    o.events?.sessionOpened?.(o.provider);
    for (const f of o.earlyProvider ?? []) this.fromProvider(f);
    if (o.upstream.isPaused) o.upstream.resume();
    if (o.early?.length) this.queue.push(...o.early);
    this.pump();
  }

  // ---- client → provider -----------------------------------------------------------------

  private fromClient(frame: Frame): void {
    this.active = true;
    if (this.closing) return;
    if (this.blocked || this.queue.length > 0) {
      this.queue.push(frame);
      return;
    }
    this.meterClient(frame);
  }

  /** Meters queued frames in order until one must wait for a reservation. */
  private pump(): void {
    while (!this.blocked && !this.closing && this.queue.length > 0) this.meterClient(this.queue.shift()!);
    if (!this.blocked && !this.closing) this.resumeClient();
  }

  private meterClient(frame: Frame): void {
    if (this.firstPending) {
      this.firstPending = false;
      frame = this.o.firstMessage!(frame);
    }
    const { account, meter } = this.o;
    let v: FrameVerdict;
    try {
      v = meter.client(frame, account.budget());
    } catch (err) {
      this.fail(err);
      return;
    }
    if (v.needMicro !== undefined) {
      // Wait for the next step: the sender is paused, this frame goes first when it comes.
      this.queue.unshift(frame);
      this.block(v.needMicro);
      return;
    }
    account.consume(v.microCredits);
    if (v.forward && this.o.upstream.readyState === 1) {
      this.o.upstream.send(v.forward.data, v.forward.binary ? BINARY : TEXT);
      this.cf++;
      this.cb += v.forward.data.length;
      if (this.o.upstream.bufferedAmount > this.o.highWaterMark) this.pauseClientUntilDrained();
    }
    if (v.cut) return this.cut(account.reason);
    if (account.wantsTopUp()) void account.topUp();
  }

  private block(needMicro: number): void {
    this.blocked = true;
    this.o.client.pause();
    void this.o.account.topUp(needMicro).then(() => {
      if (this.closing) return;
      const b = this.o.account.budget();
      // The ledger was unavailable (not final, nothing more reserved): try again shortly.
      if (!b.final && b.microCredits < needMicro) {
        setTimeout(() => this.block(needMicro), RETRY_RESERVE_MS).unref();
        return;
      }
      this.blocked = false;
      this.pump();
    });
  }

  private pauseClientUntilDrained(): void {
    this.o.client.pause();
    const sock = (this.o.upstream as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    if (sock) sock.once('drain', () => this.resumeClient());
    else this.resumeClient();
  }

  private resumeClient(): void {
    if (this.blocked || this.closing || !this.o.client.isPaused) return;
    if (this.o.upstream.bufferedAmount > this.o.highWaterMark) return; // another drain will come
    this.o.client.resume();
  }

  // ---- provider → client -----------------------------------------------------------------

  private fromProvider(frame: Frame): void {
    this.active = true;
    const { account, meter, client } = this.o;
    let v: FrameVerdict;
    try {
      v = meter.provider(frame, account.budget());
    } catch (err) {
      this.fail(err);
      return;
    }
    account.consume(v.microCredits);
    if (v.forward && client.readyState === 1 && !this.closing) {
      client.send(v.forward.data, v.forward.binary ? BINARY : TEXT);
      this.pf++;
      this.pb += v.forward.data.length;
      if (client.bufferedAmount > this.o.highWaterMark) this.pauseUpstreamUntilDrained();
    }
    if (v.cut && !this.closing) this.cut(account.reason);
  }

  private pauseUpstreamUntilDrained(): void {
    const { client, upstream } = this.o;
    upstream.pause();
    const sock = (client as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    const resume = () => {
      if (client.bufferedAmount > this.o.highWaterMark && sock) sock.once('drain', resume);
      else upstream.resume();
    };
    if (sock) sock.once('drain', resume);
    else upstream.resume();
  }

  // ---- ends --------------------------------------------------------------------------------

  /** Credits ran out: the covered part went upstream; now the provider's error frame and 4402. */
  private cut(reason: CutReason): void {
    if (this.closing) return;
    this.closing = true;
    this.end = 'cut';
    this.o.events?.cut?.(this.provider, reason);
    const { client, upstream, meter } = this.o;
    if (client.readyState === 1) {
      const f = meter.cutFrame?.(reason);
      if (f) client.send(f.data, { binary: f.binary });
      client.close(4402, reason);
    }
    if (upstream.readyState === 1) upstream.close(1000);
    this.startLinger();
  }

  /** Tollgate ends the session (shutdown 1001, idle 1000). */
  closeBoth(end: 'shutdown' | 'idle', code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.end = end;
    const { client, upstream } = this.o;
    if (client.readyState === 1) client.close(code, reason);
    if (upstream.readyState === 1) upstream.close(1000);
    this.startLinger();
  }

  private fail(err: unknown): void {
    this.o.logger.error({ sessionId: this.sessionId, provider: this.provider, err }, 'realtime meter error; closing the session');
    if (this.closing) return;
    this.closing = true;
    this.end = 'error';
    if (this.o.client.readyState === 1) this.o.client.close(1011, 'internal_error');
    if (this.o.upstream.readyState === 1) this.o.upstream.close(1000);
    this.startLinger();
  }

  private onClientClose(code: number, reason: Buffer): void {
    this.clientClosed = true;
    this.closeCode ??= code;
    if (!this.closing) {
      this.closing = true;
      this.end = code === 1006 ? 'client_gone' : 'client_close';
      if (code === 1006) {
        this.outcome = 'aborted';
        this.complete = false;
      }
      const up = this.o.upstream;
      if (up.readyState === 1) {
        if (sendableCode(code)) up.close(code, reason);
        else up.close(1000);
      }
    }
    this.queue.length = 0;
    if (this.upstreamClosed) this.finish();
    else this.startLinger();
  }

  private onUpstreamClose(code: number, reason: Buffer): void {
    this.upstreamClosed = true;
    if (!this.closing) {
      this.closing = true;
      this.end = code === 1006 ? 'provider_gone' : 'provider_close';
      this.closeCode = code;
      if (code === 1006) {
        this.outcome = 'upstream_error';
        this.complete = false;
      }
      const c = this.o.client;
      if (c.readyState === 1) {
        if (sendableCode(code)) c.close(code, reason);
        else if (code === 1005) c.close();
        else c.terminate(); // the provider vanished: so does the session, for the client too
      }
    }
    if (this.clientClosed) this.finish();
    else this.startLinger();
  }

  private startLinger(): void {
    if (this.linger) return;
    this.linger = setTimeout(() => {
      if (!this.clientClosed) this.o.client.terminate();
      if (!this.upstreamClosed) this.o.upstream.terminate();
    }, LINGER_MS);
    this.linger.unref();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.linger) clearTimeout(this.linger);
    this.flushCounters();
    const end = this.end ?? 'error';
    this.o.events?.sessionClosed?.(this.provider, end);
    const line: Record<string, unknown> = { end, frames: this.totalFrames, bytes: this.totalBytes, sessionMs: this.o.now() - this.opened };
    if (this.closeCode !== undefined) line.closeCode = this.closeCode;
    void this.o.account.finish(this.outcome, this.complete, line).finally(() => this.o.onEnd(this));
  }

  // ---- the sweep (server.ts calls these about once a second) -------------------------------

  /** Reports frame counts, pings both sides (a side that missed a pong is gone), checks idle. */
  sweep(now: number, ping: boolean): void {
    this.flushCounters();
    if (this.closing) return;
    if (this.active) {
      this.active = false;
      this.lastActivity = now;
    } else if (now - this.lastActivity > this.o.idleMs) {
      this.closeBoth('idle', 1000, 'idle_timeout');
      return;
    }
    if (!ping) return;
    // A side tollgate itself stopped reading (backpressure, a frame waiting for its step) cannot
    // have its pong read: that side is not judged, and pinged again once it is read.
    const { client, upstream } = this.o;
    if (!this.clientAlive && !client.isPaused) {
      client.terminate(); // no close frame: its 'close' comes as 1006, the end client_gone
      return;
    }
    if (!this.upstreamAlive && !upstream.isPaused) {
      upstream.terminate(); // provider_gone; the client's socket is cut too
      return;
    }
    if (!client.isPaused) {
      this.clientAlive = false;
      client.ping();
    }
    if (!upstream.isPaused) {
      this.upstreamAlive = false;
      upstream.ping();
    }
  }

  private flushCounters(): void {
    const ev = this.o.events?.frames;
    if (this.cf > 0) {
      ev?.(this.provider, 'client', this.cf, this.cb);
      this.totalFrames += this.cf;
      this.totalBytes += this.cb;
      this.cf = this.cb = 0;
    }
    if (this.pf > 0) {
      ev?.(this.provider, 'provider', this.pf, this.pb);
      this.totalFrames += this.pf;
      this.totalBytes += this.pb;
      this.pf = this.pb = 0;
    }
  }
}
