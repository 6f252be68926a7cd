import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";

/** Plain node:http helpers: no client library's overhead or pooling rules in the numbers. */

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | Readable;
  agent?: Agent | false;
  timeoutMs?: number;
}

export function httpRequest(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      agent: options.agent,
      timeout: options.timeoutMs ?? 600_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.once("timeout", () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 600_000} ms: ${url}`)));
    req.once("error", reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.once("error", (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

export async function getJson<T>(url: string, token?: string): Promise<T> {
  const res = await httpRequest(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status !== 200) throw new Error(`GET ${url} -> ${res.status} ${res.body.toString().slice(0, 300)}`);
  return JSON.parse(res.body.toString()) as T;
}

/** Streams a file as the raw request body (Content-Length set, so nothing is chunked). */
export async function uploadFile(url: string, path: string, headers: Record<string, string>): Promise<HttpResponse> {
  const { size } = await stat(path);
  return httpRequest(url, {
    method: "POST",
    headers: { ...headers, "content-length": size },
    // 1 MiB reads: the client should not be the bottleneck of the ingestion figure.
    body: createReadStream(path, { highWaterMark: 1 << 20 }),
    agent: false,
  });
}

/**
 * A closed-loop load driver: `lanes` loops each run `op` back to back until the deadline.
 * Every started op is awaited and counted with its real duration, so slow operations (a
 * 400 ms AVIF render) are not cut off at the deadline as a tick-based generator would.
 * The same driver runs in-process sharp calls and HTTP requests, so only the op differs.
 * `minOps` makes it run at least that many ops (a warm-up of a fixed size).
 */
export async function closedLoop(lanes: number, durationMs: number, op: (i: number) => Promise<void>, minOps = 0): Promise<LoopResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + durationMs;
  const lane = async () => {
    while (performance.now() < deadline || next < minOps) {
      const i = next++;
      const t = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t);
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const seconds = (performance.now() - started) / 1000;
  return summarise(latencies, errors, firstError, seconds);
}

function summarise(latencies: number[], errors: number, firstError: unknown, seconds: number): LoopResult {
  return {
    ops: latencies.length, errors, firstError, seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99),
    latencies,
  };
}

/** Several runs of the same side (interleaved rounds) as one: ops over total time, all latencies. */
export function mergeLoops(runs: LoopResult[]): LoopResult {
  return summarise(runs.flatMap((r) => r.latencies), runs.reduce((n, r) => n + r.errors, 0),
    runs.find((r) => r.firstError)?.firstError, runs.reduce((n, r) => n + r.seconds, 0));
}

export interface LoopResult {
  ops: number;
  errors: number;
  firstError: unknown;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Every completed op's duration in ms. */
  latencies: number[];
}

/** Nearest-rank percentile of a sample (ms in, ms out). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** A LoopResult without its latency list, for the JSON file. */
export function brief<T extends LoopResult>(r: T): Omit<T, "latencies" | "firstError"> & { firstError?: string } {
  const { latencies: _latencies, firstError, ...rest } = r;
  return { ...rest, ...(firstError ? { firstError: String(firstError) } : {}) };
}
