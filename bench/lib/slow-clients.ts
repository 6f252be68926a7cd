import { connect, type Socket } from "node:net";
import { count, failureOutcome, type Tally } from "./abuse.js";

/**
 * Raw-socket attackers that hold a connection open cheaply: readers that take a large
 * response a chunk at a time, and uploaders that trickle a body (slow loris). Every socket
 * is destroyed when the attack ends, whatever state it is in.
 */

export interface SlowResult {
  /** How each connection ended: `held` (still open at the end), `<status> closed`, `reset`, ... */
  tally: Tally;
  /** Statuses the server answered with (parsed from the first response bytes). */
  statuses: Tally;
  /** Seconds each connection the server closed had lasted. */
  closedAfterSeconds: number[];
  bytesMoved: number;
}

interface Conn {
  socket: Socket;
  status?: string;
  openedAt: number;
  ended?: string;
}

const statusOf = (head: string): string | undefined => /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];

/**
 * Opens `n` connections, each sending `head` and then driven by `tick` every `everyMs`
 * until `durationMs` is up. `tick` returns the bytes it moved. Resolves with how the
 * connections ended once all are destroyed.
 */
async function holdConnections(port: number, n: number, durationMs: number, head: string, everyMs: number,
  tick: (socket: Socket) => number, onData: (socket: Socket, chunk: Buffer) => void): Promise<SlowResult> {
  const result: SlowResult = { tally: {}, statuses: {}, closedAfterSeconds: [], bytesMoved: 0 };
  const conns: Conn[] = [];
  const finish = (c: Conn, how: string) => {
    if (c.ended) return;
    c.ended = how;
    count(result.tally, how);
    if (how !== "held") result.closedAfterSeconds.push((performance.now() - c.openedAt) / 1000);
  };
  for (let i = 0; i < n; i++) {
    const socket = connect(port, "127.0.0.1");
    const c: Conn = { socket, openedAt: performance.now() };
    conns.push(c);
    socket.once("connect", () => socket.write(head));
    let first = "";
    socket.on("data", (chunk: Buffer) => {
      result.bytesMoved += chunk.length;
      if (c.status === undefined && first.length < 64) {
        first += chunk.toString("latin1", 0, Math.min(chunk.length, 64));
        c.status = statusOf(first);
        if (c.status) count(result.statuses, c.status);
      }
      onData(socket, chunk);
    });
    // Once the server has answered, a reset or EPIPE is just how it hung up: the status says what it decided.
    socket.once("error", (error) => finish(c, c.status ? `${c.status} closed` : failureOutcome(error)));
    socket.once("close", () => finish(c, c.status ? `${c.status} closed` : "closed unanswered"));
  }
  const timer = setInterval(() => {
    for (const c of conns) if (!c.ended && !c.socket.connecting) result.bytesMoved += tick(c.socket);
  }, everyMs);
  await new Promise((r) => setTimeout(r, durationMs));
  clearInterval(timer);
  for (const c of conns) {
    finish(c, "held");
    c.socket.destroy();
  }
  return result;
}

/**
 * `n` readers of one large response (`path`), each reading one socket chunk (≤ 64 KiB)
 * every `readEveryMs`: the server has to keep the rest of each body somewhere meanwhile.
 */
export function slowReaders(port: number, path: string, n: number, durationMs: number, readEveryMs = 1000): Promise<SlowResult> {
  const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
  return holdConnections(port, n, durationMs, head, readEveryMs,
    (socket) => (socket.resume(), 0),
    // One chunk, then stop reading until the next tick (the kernel buffers fill up behind it).
    (socket) => void socket.pause());
}

/**
 * `n` uploads that announce `contentLength` bytes and then send `bytesPerTick` every
 * `everyMs` (100 B/s by default): each holds a connection, and perhaps a staging file.
 */
export function slowUploads(port: number, n: number, durationMs: number, options: {
  path: string; contentLength: number; token?: string; bytesPerTick?: number; everyMs?: number;
}): Promise<SlowResult> {
  const auth = options.token ? `Authorization: Bearer ${options.token}\r\n` : "";
  const head = `POST ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\n` +
    `Content-Length: ${options.contentLength}\r\n${auth}\r\n`;
  const chunk = Buffer.alloc(options.bytesPerTick ?? 10, "x");
  return holdConnections(port, n, durationMs, head, options.everyMs ?? 100,
    (socket) => (socket.writable ? (socket.write(chunk), chunk.length) : 0),
    () => {});
}
