/**
 * The clamd scanner against a real clamd: `scripts/clamd-test-server.sh start` runs one on
 * 127.0.0.1:3310 (and /tmp/assetd-clamd/clamd.sock) whose database detects EICAR as
 * `Eicar-Test-Signature` (clamd appends `.UNOFFICIAL` to signatures of its own databases).
 * ASSETD_TEST_CLAMD / ASSETD_TEST_CLAMD_SOCKET name another; a named one that does not
 * answer fails the suite. With neither set and nothing on 127.0.0.1:3310 the suite is
 * skipped with the reason printed.
 */
import { existsSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import { parseClamdAddress } from "../../src/domain/clamd-address.js";
import { createClamdScanner as scannerAt, type ClamdScannerOptions } from "../../src/media/scan/clamd.js";
import { fixture } from "../helpers/fixtures.js";

/** What `scripts/clamd-test-server.sh env` prints. */
const SCRIPT_TCP = "127.0.0.1:3310";
const SCRIPT_SOCKET = "/tmp/assetd-clamd/clamd.sock";
const SIGNATURE = /^Eicar-Test-Signature\b/;

/** Addresses are written as ASSETD_CLAMD takes them. */
const createClamdScanner = (address: string, options?: ClamdScannerOptions) => scannerAt(parseClamdAddress(address), options);

const configured = process.env.ASSETD_TEST_CLAMD?.trim() || undefined;
const tcp = configured ?? SCRIPT_TCP;
const socketPath = process.env.ASSETD_TEST_CLAMD_SOCKET?.trim() || (configured ? undefined : SCRIPT_SOCKET);

const clamdSkip = await createClamdScanner(tcp).ping().then(
  () => undefined,
  (e: unknown) => {
    if (configured) throw new Error(`ASSETD_TEST_CLAMD=${configured} does not answer PING: ${(e as Error).message}`);
    return `ASSETD_TEST_CLAMD is unset and no clamd answers on ${SCRIPT_TCP} (run scripts/clamd-test-server.sh start)`;
  },
);
if (clamdSkip) console.warn(`[clamd scanner] skipping: ${clamdSkip}`);

const MiB = 1024 * 1024;

/** `total` bytes of filler in `piece`-byte chunks, with `insert` (if any) at `at`. */
function* bytes(total: number, piece: number, insert?: { at: number; data: Buffer }): Generator<Buffer> {
  const whole = Buffer.alloc(total, 0x61); // "aaaa…": text that no signature matches
  insert?.data.copy(whole, insert.at);
  for (let offset = 0; offset < total; offset += piece) yield whole.subarray(offset, Math.min(total, offset + piece));
}

/** A body that never yields: the scan can only end by its timeout or an abort. */
const stalled = () => new Readable({ read() {} });

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** A TCP server on a free port running `onConnection`; it and its connections end after each test. */
const servers: Server[] = [];
const connections = new Set<Socket>();
async function fakeServer(onConnection: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    connections.add(socket);
    socket.on("error", () => {}); // the scanner resets connections it gives up on
    socket.on("close", () => connections.delete(socket));
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  for (const socket of connections) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe.skipIf(clamdSkip !== undefined)("clamd scanner (real clamd)", () => {
  const scanner = createClamdScanner(tcp);

  it("answers PING", async () => {
    await expect(scanner.ping()).resolves.toBeUndefined();
  });

  it("finds EICAR and names the signature", async () => {
    const verdict = await scanner.scan(Readable.from([fixture("hostile/eicar.txt")]));
    expect(verdict.clean).toBe(false);
    expect(verdict.clean === false && verdict.signature).toMatch(SIGNATURE);
  });

  it("passes a clean photo", async () => {
    await expect(scanner.scan(Readable.from([fixture("photos/canon-eos-400d-storm-1920x1280.jpg")]))).resolves.toEqual({ clean: true });
  });

  it("streams a multi-MB body given in small pieces, with small chunks", async () => {
    const small = createClamdScanner(tcp, { chunkBytes: 4096 });
    await expect(small.scan(Readable.from(bytes(6 * MiB, 1000)))).resolves.toEqual({ clean: true });
  });

  it("finds EICAR deep in a multi-MB stream, split across chunks", async () => {
    // 1000-byte chunks and an odd offset: the 68 bytes straddle a chunk boundary, so this
    // also proves the framing (a wrong length prefix would shift or corrupt the string).
    const small = createClamdScanner(tcp, { chunkBytes: 1000 });
    const body = Readable.from(bytes(5 * MiB, 777, { at: 3 * MiB + 990, data: fixture("hostile/eicar.txt") }));
    const verdict = await small.scan(body);
    expect(verdict.clean === false && verdict.signature).toMatch(SIGNATURE);
  });

  it("accepts string chunks and an empty body", async () => {
    await expect(scanner.scan(Readable.from(["plain ", "text"], { objectMode: false }))).resolves.toEqual({ clean: true });
    await expect(scanner.scan(Readable.from([]))).resolves.toEqual({ clean: true });
  });

  it("scans concurrently", async () => {
    const eicar = fixture("hostile/eicar.txt");
    const verdicts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => scanner.scan(Readable.from(i % 2 ? [eicar] : bytes(256 * 1024, 10_000)))),
    );
    expect(verdicts.map((v) => v.clean)).toEqual([true, false, true, false, true, false, true, false]);
  });

  it.skipIf(!socketPath || !existsSync(socketPath))("works over the unix socket, as a path and as unix:", async () => {
    for (const address of [socketPath!, `unix:${socketPath}`]) {
      const overSocket = createClamdScanner(address);
      await overSocket.ping();
      const verdict = await overSocket.scan(Readable.from([fixture("hostile/eicar.txt")]));
      expect(verdict.clean === false && verdict.signature).toMatch(SIGNATURE);
    }
  });

  // Needs clamd's StreamMaxLength at 100M, as the script sets it.
  it.skipIf(configured !== undefined && configured !== SCRIPT_TCP)("reports clamd's stream limit as dependency_down, not retryable", async () => {
    const mebibyte = Buffer.alloc(MiB, 0x61);
    const body = Readable.from((function* () { for (let i = 0; i < 101; i++) yield mebibyte; })());
    const error = await appErrorOf(scanner.scan(body));
    expect(error.code).toBe("dependency_down");
    expect(error.message).toMatch(/INSTREAM size limit exceeded/);
    expect(error.details).toMatchObject({ reason: "stream_limit", retryable: false });
    expect(body.destroyed).toBe(true);
  });

  it("refuses a body over maxStreamBytes before sending it all", async () => {
    const limited = createClamdScanner(tcp, { maxStreamBytes: MiB });
    const body = Readable.from(bytes(3 * MiB, 64 * 1024));
    const error = await appErrorOf(limited.scan(body));
    expect(error.code).toBe("dependency_down");
    expect(error.details).toMatchObject({ reason: "stream_limit", retryable: false, limit: MiB });
    expect(body.destroyed).toBe(true);
  });

  it("stops on abort: rejects with the reason and destroys the body", async () => {
    const controller = new AbortController();
    const body = stalled();
    setTimeout(() => controller.abort(new Error("client went away")), 50);
    await expect(scanner.scan(body, controller.signal)).rejects.toThrow("client went away");
    expect(body.destroyed).toBe(true);
    await expect(scanner.scan(Readable.from([]), AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
  });

  it("times out a stalled body as dependency_down", async () => {
    const quick = createClamdScanner(tcp, { timeoutMs: 200 });
    const body = stalled();
    const started = Date.now();
    const error = await appErrorOf(quick.scan(body));
    expect(error.code).toBe("dependency_down");
    expect(error.message).toMatch(/within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(body.destroyed).toBe(true);
  });

  it("rethrows an error of the body itself unchanged", async () => {
    const failure = new Error("disk read failed");
    const body = new Readable({ read() { this.destroy(failure); } });
    await expect(scanner.scan(body)).rejects.toBe(failure);
  });
});

describe("clamd scanner (no clamd needed)", () => {
  it("reports a refused port as dependency_down, quickly", async () => {
    const address = await fakeServer(() => {});
    await new Promise((resolve) => servers.pop()!.close(resolve)); // free the port again: nothing listens
    const refused = createClamdScanner(address);
    const started = Date.now();
    const error = await appErrorOf(refused.scan(Readable.from([fixture("hostile/eicar.txt")])));
    expect(error.code).toBe("dependency_down");
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect((await appErrorOf(refused.ping())).code).toBe("dependency_down");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("reports a missing unix socket as dependency_down", async () => {
    const error = await appErrorOf(createClamdScanner("/nonexistent/clamd.ctl").ping());
    expect(error.code).toBe("dependency_down");
    expect(error.message).toMatch(/ENOENT/);
  });

  it("times out a server that never answers", async () => {
    const address = await fakeServer((socket) => socket.resume());
    const error = await appErrorOf(createClamdScanner(address, { timeoutMs: 150 }).scan(Readable.from([Buffer.from("x")])));
    expect(error.code).toBe("dependency_down");
    expect(error.message).toMatch(/within 150 ms/);
  });

  it("reports a server that is not clamd as dependency_down", async () => {
    const address = await fakeServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    const error = await appErrorOf(createClamdScanner(address).ping());
    expect(error.code).toBe("dependency_down");
    expect(error.message).toContain("HTTP/1.1 400");
    const chatty = await fakeServer((socket) => socket.end(Buffer.alloc(10_000, 0x41)));
    expect((await appErrorOf(createClamdScanner(chatty).ping())).message).toMatch(/does not speak the clamd protocol/);
  });

  it("frames chunks as clamd expects: length-prefixed, ending with a zero-length chunk", async () => {
    let received = Buffer.alloc(0);
    const address = await fakeServer((socket) => {
      socket.on("data", (data: Buffer) => {
        received = Buffer.concat([received, data]);
        if (received.subarray(-4).equals(Buffer.alloc(4))) socket.end("stream: OK\0");
      });
    });
    const verdict = await createClamdScanner(address, { chunkBytes: 3 }).scan(Readable.from([Buffer.from("abcdefg"), Buffer.alloc(0)]));
    expect(verdict).toEqual({ clean: true });
    const u32 = (n: number) => Buffer.from([0, 0, 0, n]);
    expect(received).toEqual(Buffer.concat([
      Buffer.from("zINSTREAM\0"), u32(3), Buffer.from("abc"), u32(3), Buffer.from("def"), u32(1), Buffer.from("g"), u32(0),
    ]));
  });
});
