import { createConnection, type Socket } from "node:net";
import { AppError } from "../../domain/errors.js";
import type { ClamdAddress } from "../../domain/clamd-address.js";

/** clamd's replies are one short line; more than this is not clamd (say, an HTTP server). */
const MAX_REPLY_BYTES = 4096;

export interface SessionOptions {
  /** The whole exchange (connect, send, reply) must finish within this. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** For messages. */
  label: string;
}

const down = (message: string, cause?: unknown) =>
  new AppError("dependency_down", message, { dependency: "clamd" }, cause === undefined ? undefined : { cause });

/**
 * One connection to clamd for one z-command. `reply` settles exactly once: with clamd's
 * answer up to its NUL terminator, or with the failure that ended the session (refused,
 * reset, timeout: dependency_down; abort: `signal.reason`). The socket is destroyed then,
 * so a timeout or an abort also stops a send in progress.
 *
 * clamd may answer before we finish sending (a stream over its StreamMaxLength), so the
 * reply is collected from the start and `send` reports when the session is over.
 */
export class ClamdSession {
  readonly reply: Promise<string>;
  private readonly socket: Socket;
  private readonly timer: NodeJS.Timeout;
  private readonly received: Buffer[] = [];
  private receivedBytes = 0;
  private connected = false;
  private settled = false;
  /** Callbacks of `send`s waiting for `connect` or `drain`; also woken when the session ends. */
  private readonly waiting = new Set<() => void>();
  private resolveReply!: (text: string) => void;
  private rejectReply!: (error: unknown) => void;

  constructor(address: ClamdAddress, private readonly options: SessionOptions) {
    this.reply = new Promise<string>((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
    // The caller awaits `reply` only after sending; until then a failure must not count as unhandled.
    this.reply.catch(() => {});

    this.socket = createConnection(address);
    this.timer = setTimeout(
      () => this.fail(down(`clamd at ${options.label} did not answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    options.signal?.addEventListener("abort", this.onAbort, { once: true });

    this.socket.on("connect", () => {
      this.connected = true;
      this.wake();
    });
    this.socket.on("drain", () => this.wake());
    this.socket.on("data", (data: Buffer) => this.receive(data));
    // clamd ends every z-command answer with NUL; text cut off by a close is still shown
    // (the parsers reject it), which names what answered when the address is wrong.
    this.socket.on("end", () => {
      if (this.receivedBytes === 0) this.fail(down(`clamd at ${options.label} closed the connection without answering`));
      else this.settle(() => this.resolveReply(Buffer.concat(this.received).toString("utf8")));
    });
    this.socket.on("error", (error) => {
      const message = this.connected
        // A reset while sending: clamd gave up on us, typically at its StreamMaxLength.
        ? `connection to clamd at ${options.label} failed while scanning (${error.message}); a stream over clamd's StreamMaxLength ends like this`
        : `cannot reach clamd at ${options.label}: ${error.message}`;
      this.fail(down(message, error));
    });
    this.socket.on("close", () => this.fail(down(`clamd at ${options.label} closed the connection without answering`)));
  }

  /** True once clamd answered or the session failed: stop sending and await `reply`. */
  get over(): boolean {
    return this.settled;
  }

  /**
   * Writes bytes once the connection is up, then waits while the socket's buffer is full
   * (backpressure: a slow clamd slows the reader instead of filling memory). Resolves
   * false when the session is over and nothing more should be sent.
   */
  async send(bytes: Uint8Array): Promise<boolean> {
    while (!this.connected && !this.settled) await this.nextEvent();
    if (this.settled) return false;
    if (!this.socket.write(bytes)) {
      while (this.socket.writableNeedDrain && !this.settled) await this.nextEvent();
    }
    return !this.settled;
  }

  /** Resolves on the next connect, drain or end of the session; lets `send` wait for any of them. */
  private nextEvent(): Promise<void> {
    return new Promise((resolve) => this.waiting.add(resolve));
  }

  /** Ends the session (idempotent): the socket is destroyed and the timer and abort listener removed. */
  close(): void {
    this.fail(down(`clamd session with ${this.options.label} closed before its answer`));
  }

  private receive(data: Buffer): void {
    if (this.settled) return;
    const end = data.indexOf(0);
    this.received.push(end === -1 ? data : data.subarray(0, end));
    this.receivedBytes += end === -1 ? data.length : end;
    if (end !== -1) {
      this.settle(() => this.resolveReply(Buffer.concat(this.received).toString("utf8")));
    } else if (this.receivedBytes > MAX_REPLY_BYTES) {
      this.fail(down(`${this.options.label} does not speak the clamd protocol (reply over ${MAX_REPLY_BYTES} bytes)`));
    }
  }

  private readonly onAbort = () => this.fail(this.options.signal?.reason ?? new Error("aborted"));

  private fail(error: unknown): void {
    this.settle(() => this.rejectReply(error));
  }

  private settle(report: () => void): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.socket.destroy();
    report();
    this.wake();
  }

  private wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resolve of waiting) resolve();
  }
}
