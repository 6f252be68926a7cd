import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload as S3Upload } from "@aws-sdk/lib-storage";
import { createClient, type FetchLike, type Manifest, type UploadMethod } from "../../src/client/index.js";
import { fileInput } from "../../src/client/node.js";
import type { AssetdServer } from "../lib/assetd.js";
import { largeFile } from "../lib/fixtures.js";
import { launchAssetd } from "../lib/kit.js";
import { cpuMeter, rssSampler, selfCpuMeter, sleep, statusMiB } from "../lib/proc.js";
import { RAW_PIPELINE_NAME, rawPipeline } from "../lib/raw-pipeline.js";
import { recordRequests } from "../lib/request-timing.js";
import { findS3, type BenchS3 } from "../lib/s3.js";
import type { Row, Scenario, ScenarioContext } from "../lib/types.js";

const exec = promisify(execFile);

const MiB = 1024 * 1024;
/** The service's defaults, pinned so the S3 peer uses the same part size whatever the defaults become. */
const MULTIPART_THRESHOLD = 64 * MiB;
const PART_SIZE = 16 * MiB;
const CONCURRENCY = 4;
const TUS_CHUNK = 16 * MiB;
/** DESIGN §9: peak RSS < 200 MB while ingesting a large file. */
const RSS_LIMIT_BYTES = 200e6;

/** One way into the service, as the project's own client (`assetd/client`) takes it. */
interface UploadPath {
  key: string;
  label: string;
  method: UploadMethod;
  /** Server settings that make the session take this shape. */
  env(bytes: number): Record<string, string>;
  /** The plan `POST /v1/uploads` must answer with (checked, so changed defaults cannot measure another path). */
  plan?: "single" | "multipart";
  /** The request that finishes the upload: "s in complete" runs from its last body byte to its answer. */
  finishing(method: string, path: string): boolean;
}

const COMPLETE_CALL = (method: string, path: string) => method === "POST" && /^\/v1\/uploads\/[^/?]+\/complete(\?|$)/.test(path);

const PATHS: readonly UploadPath[] = [
  {
    key: "direct", label: "direct POST", method: "direct", env: () => ({}),
    finishing: (method, path) => method === "POST" && /^\/v1\/assets(\?|$)/.test(path),
  },
  {
    key: "single", label: "presigned single PUT", method: "presigned", plan: "single", finishing: COMPLETE_CALL,
    // Above the file's size, so a 1 GiB body goes in one PUT.
    env: (bytes) => ({ ASSETD_MULTIPART_THRESHOLD: String(bytes + MiB), ASSETD_PART_SIZE: String(PART_SIZE) }),
  },
  {
    key: "multipart", label: `multipart ${PART_SIZE / MiB} MiB × ${CONCURRENCY}`, method: "multipart", plan: "multipart",
    finishing: COMPLETE_CALL,
    env: () => ({ ASSETD_MULTIPART_THRESHOLD: String(MULTIPART_THRESHOLD), ASSETD_PART_SIZE: String(PART_SIZE) }),
  },
  // The last PATCH: its handler ingests the finished tus upload before answering.
  { key: "tus", label: `tus ${TUS_CHUNK / MiB} MiB chunks`, method: "tus", env: () => ({}), finishing: (method) => method === "PATCH" },
];

/** The reference a store's uploads are compared with: the same bytes written without assetd. */
interface PeerRun {
  mbPerSecond: number;
  seconds: number;
  /** The peer's counterpart of complete: the fsync of the copy, or CompleteMultipartUpload. */
  completeSeconds: number;
  /** The raw pipeline's sha256sum: what every upload's manifest must show. */
  sha256?: string;
}

/** One of the stores assetd runs on in this scenario, and its peer. */
interface StoreSide {
  key: "fs" | "s3";
  peerName: string;
  completeName: string;
  /** Server env for a store under `folder` (a fresh one per upload, so none is a duplicate). */
  env(folder: string): Record<string, string>;
  peer(): Promise<PeerRun>;
  /** Removes what an upload left in the store (the data directory goes with the server). */
  cleanup(folder: string): Promise<void>;
}

interface PathRun {
  path: string;
  mbPerSecond: number;
  seconds: number;
  completeSeconds: number;
  /** HTTP requests the client made (parts, PATCHes, API calls). */
  requests: number;
  status: string;
  verified: boolean;
  vmHwmMiB: number;
  baselineHwmMiB: number;
  peakSampledRssMiB: number;
  /** The client's (harness's) peak ArrayBuffer memory: body bytes held or awaiting GC. */
  clientBuffersMiB: number;
  /** What was still held when the upload started (after settleClientMemory). */
  clientBuffersBeforeMiB: number;
  serverCores: number;
  clientCores: number;
}

/**
 * A large generated file uploaded through every path the service offers (direct POST,
 * presigned single PUT, multipart session, tus) with the project's TypeScript client, on
 * the filesystem store and, when an S3 server is reachable, on S3; each side against the
 * raw ceiling of writing the same bytes there without assetd.
 */
export const uploads: Scenario = {
  name: "uploads",
  title: "a large file through every upload path, filesystem store and S3, vs writing the bytes directly",
  async run(ctx, result) {
    const sizeMiB = ctx.mode === "quick" ? 128 : 1024;
    const file = join(ctx.tmpDir, `upload-${sizeMiB}m.bin`);
    ctx.log(`generating ${sizeMiB} MiB with make-large.sh`);
    await largeFile(sizeMiB, file);
    ctx.defer(() => rm(file, { force: true }));
    const bytes = (await stat(file)).size;

    const s3 = await findS3();
    const sides: StoreSide[] = [fsSide(ctx, file)];
    const runFolder = `bench-uploads-${Date.now()}-${randomBytes(3).toString("hex")}`;
    if ("skip" in s3) {
      ctx.log(`S3 half skipped: ${s3.skip}`);
    } else {
      ctx.log(`S3: ${s3.describe}, objects under ${s3.key(runFolder, "")}`);
      ctx.defer(() => s3.empty(runFolder));
      sides.push(s3Side(s3, runFolder, file));
    }

    let expectedSha256: string | undefined;
    const perSide: Record<string, { peers: PeerRun[]; runs: PathRun[] }> = {};
    for (const side of sides) {
      const peers: PeerRun[] = [];
      const runs: PathRun[] = [];
      perSide[side.key] = { peers, runs };
      // peer, every path, peer: the peer's figure is the mean of the runs either side.
      const peer = async () => {
        await exec("sync");
        const p = await side.peer();
        ctx.log(`${side.key} peer (${side.peerName}): ${p.mbPerSecond.toFixed(0)} MB/s, complete ${p.completeSeconds.toFixed(2)} s`);
        peers.push(p);
        return p;
      };
      const first = await peer();
      expectedSha256 ??= first.sha256;
      for (const path of PATHS) {
        const folder = `${side.key}-${path.key}`;
        const server = await launchAssetd(ctx, result, { ...side.env(folder), ...path.env(bytes) }, `data-${folder}`);
        try {
          await exec("sync");
          const r = await uploadThrough(server, path, file, bytes, expectedSha256);
          ctx.log(`${side.key} ${path.label}: ${r.mbPerSecond.toFixed(0)} MB/s, complete ${r.completeSeconds.toFixed(2)} s, ` +
            `${r.status}${r.verified ? "" : " (NOT the file's size and sha256)"}, VmHWM ${r.vmHwmMiB.toFixed(0)} MiB, ` +
            `server ${r.serverCores.toFixed(2)} cores, client ${r.clientCores.toFixed(2)} cores holding ${r.clientBuffersMiB.toFixed(0)} MiB`);
          runs.push(r);
        } finally {
          await server.stop();
          await rm(server.dataDir, { recursive: true, force: true });
          await side.cleanup(folder);
        }
      }
      await peer();
    }

    const rows: Row[] = [];
    for (const side of sides) {
      const { peers, runs } = perSide[side.key]!;
      const peerMbps = mean(peers.map((p) => p.mbPerSecond));
      const peerComplete = mean(peers.map((p) => p.completeSeconds));
      for (const r of runs) {
        const label = `${side.key} · ${PATHS.find((p) => p.key === r.path)!.label}`;
        const hwmBytes = r.vmHwmMiB * MiB;
        rows.push(
          { metric: `${label}: MB/s end to end`, unit: "", assetd: r.mbPerSecond, peer: peerMbps, peerName: side.peerName,
            ratio: r.mbPerSecond / peerMbps },
          { metric: `${label}: s in complete`, unit: "", assetd: r.completeSeconds, peer: peerComplete, peerName: side.completeName,
            ratio: r.completeSeconds / peerComplete },
          { metric: `${label}: peak RSS MiB (VmHWM)`, unit: "", assetd: r.vmHwmMiB, target: "< 200 MB", pass: hwmBytes < RSS_LIMIT_BYTES },
        );
      }
    }
    const all = Object.values(perSide).flatMap((s) => s.runs);
    const good = all.filter((r) => r.verified).length;
    rows.push({ metric: "uploads verified with the file's size and sha256", unit: "", assetd: good, peer: all.length, peerName: "uploads",
      ratio: good / all.length, target: "= 1", pass: good === all.length });
    if ("skip" in s3) rows.push({ metric: "s3 · skipped: no S3 server reachable (see notes)", unit: "", assetd: null });
    result.rows.push(...rows);

    result.notes.push(
      `${sizeMiB} MiB (${bytes} bytes) from shared/fixtures/make-large.sh, read from the page cache by every side; MB = 10^6 bytes. ` +
        `Each upload goes to a freshly started assetd with its own data directory${"skip" in s3 ? "" : " and S3 folder"} ` +
        "(so none is a duplicate of an earlier one), after a `sync`; per store the peer runs before and after the four uploads " +
        "and its figure is the mean of the two.",
      `Uploads use the project's client (dist/src/client, \`createClient().upload(fileInput(path), {method})\`): the input is a ` +
        "Blob backed by the file (fs.openAsBlob), sliced lazily. End to end = from the call to a manifest in `verified` " +
        "(or later) with the file's size and sha256.",
      "Client memory (the harness's peak ArrayBuffer memory during each upload, held or awaiting GC, MiB): " +
        sides.map((side) => `${side.key} ${perSide[side.key]!.runs.map((r) => `${r.path} ${r.clientBuffersMiB.toFixed(0)}`).join(", ")}`).join("; ") +
        `. Node ${process.versions.node}'s fetch (undici ${process.versions.undici}) keeps a request's whole body in memory ` +
        "(nodejs/undici#4058), so the direct POST and the single PUT hold the whole file in the client until a second or two " +
        "after the answer (a forced GC does not release it earlier); multipart holds its parts in flight plus those not yet " +
        "collected; tus reads one chunk at a time. Before each upload the harness collects garbage and waits (≤ 5 s) for " +
        "the previous upload's body to be released, so each figure is that upload's own.",
      `Paths: direct = one streamed \`POST /v1/assets\`; presigned single PUT = a session opened with ASSETD_MULTIPART_THRESHOLD ` +
        `above the file's size (one PUT); multipart = threshold ${MULTIPART_THRESHOLD / MiB} MiB, ${PART_SIZE / MiB} MiB parts, ` +
        `${CONCURRENCY} in flight; tus = \`method: "tus"\` (tus-js-client), ${TUS_CHUNK / MiB} MiB PATCHes. On the filesystem store ` +
        "the session URLs point at assetd itself; on S3 straight at the bucket (assetd sees only open and complete).",
      "s in complete: from the last body byte of the request that finishes the upload to its response headers (Node's " +
        "diagnostics channels: undici for fetch, node:http for tus-js-client) — the direct POST's 201; the sessions' " +
        "`POST /v1/uploads/:id/complete` (assetd reads the staged bytes back to hash them — on the filesystem store joining the " +
        "parts into one new file as it goes — then moves them to their content address); " +
        "tus's last PATCH (its handler copies the finished upload into the store while hashing it, then answers).",
      `Peers: filesystem = \`tee copy < file | sha256sum; sync copy\` (the ingestion scenario's raw pipeline; its complete is the sync); ` +
        `S3 = @aws-sdk/lib-storage \`Upload\` of the file (read stream) to the same bucket, ${PART_SIZE / MiB} MiB parts, ` +
        `queueSize ${CONCURRENCY}, no hashing (its complete is CompleteMultipartUpload) — what a client talking to S3 itself gets.`,
      `Peak RSS is VmHWM of the assetd process that took the upload (it served nothing else); its start-up VmHWM was ` +
        `${Math.min(...all.map((r) => r.baselineHwmMiB)).toFixed(0)}–${Math.max(...all.map((r) => r.baselineHwmMiB)).toFixed(0)} MiB. ` +
        "Server, S3 server, client and peers share the machine's cores.",
      ...("skip" in s3 ? [`S3 half skipped: ${s3.skip}.`] : [`S3: ${s3.describe}; every object written is deleted afterwards.`]),
    );
    result.details = { ...result.details, sizeMiB, bytes, expectedSha256, sides: perSide, s3: "skip" in s3 ? { skipped: s3.skip } : { at: s3.describe } };
  },
};

function fsSide(ctx: ScenarioContext, file: string): StoreSide {
  return {
    key: "fs",
    peerName: RAW_PIPELINE_NAME,
    completeName: "sync of the copy",
    env: () => ({}),
    async peer() {
      const raw = await rawPipeline(file, join(ctx.tmpDir, "raw-copy.bin"));
      return { mbPerSecond: raw.mbPerSecond, seconds: raw.seconds, completeSeconds: raw.syncSeconds, sha256: raw.sha256 };
    },
    cleanup: async () => {},
  };
}

function s3Side(s3: BenchS3, runFolder: string, file: string): StoreSide {
  return {
    key: "s3",
    peerName: `lib-storage Upload, ${PART_SIZE / MiB} MiB × ${CONCURRENCY}`,
    completeName: "CompleteMultipartUpload",
    env: (folder) => ({ ...s3.env, ASSETD_STORAGE: s3.storageUrl(`${runFolder}/${folder}`) }),
    async peer() {
      const client = s3.client();
      const key = s3.key(runFolder, "peer/upload.bin");
      try {
        return await libStorageUpload(client, s3.bucket, key, file);
      } finally {
        await s3.empty(`${runFolder}/peer`).catch(() => {});
        client.destroy();
      }
    },
    cleanup: (folder) => s3.empty(`${runFolder}/${folder}`),
  };
}

/** What a client talking to S3 itself would do: lib-storage's managed upload of a file stream. */
async function libStorageUpload(client: S3Client, bucket: string, key: string, file: string): Promise<PeerRun> {
  const { size } = await stat(file);
  let completeSeconds = 0;
  client.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName !== "CompleteMultipartUploadCommand") return next(args);
    const started = performance.now();
    try {
      return await next(args);
    } finally {
      completeSeconds += (performance.now() - started) / 1000;
    }
  }, { step: "initialize", name: "benchCompleteTiming" });
  const started = performance.now();
  await new S3Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: MiB }), ContentType: "application/octet-stream" },
    partSize: PART_SIZE,
    queueSize: CONCURRENCY,
    leavePartsOnError: false,
  }).done();
  const seconds = (performance.now() - started) / 1000;
  return { mbPerSecond: size / 1e6 / seconds, seconds, completeSeconds };
}

/**
 * One upload through `path` with the project's client, given the file as a file-backed
 * Blob. A fetch wrapper reads the plan the session got; the diagnostics channels time the
 * request that finishes the upload.
 */
async function uploadThrough(server: AssetdServer, path: UploadPath, file: string, bytes: number, expectedSha256: string | undefined): Promise<PathRun> {
  let plan: string | undefined;
  const observed: FetchLike = async (input, init) => {
    const response = await fetch(input, init);
    if (init?.method === "POST" && new URL(input).pathname === "/v1/uploads" && response.ok) {
      plan = ((await response.clone().json()) as { upload: { kind: string } | null }).upload?.kind;
    }
    return response;
  };
  const client = createClient({ baseUrl: server.url, token: server.token, fetch: observed });
  const input = await fileInput(file, { contentType: "application/octet-stream" });
  const clientBuffersBeforeMiB = await settleClientMemory();

  const baselineHwm = statusMiB(server.pid, "VmHWM") ?? Number.NaN;
  const rss = rssSampler(server.pid);
  const clientBuffers = arrayBufferSampler();
  const serverCpu = cpuMeter(() => [server.pid]);
  const clientCpu = selfCpuMeter();
  const recorder = recordRequests();
  const started = performance.now();
  let manifest: Manifest;
  try {
    manifest = await client.upload(input, { method: path.method, concurrency: CONCURRENCY, chunkSize: TUS_CHUNK });
    // Each path answers once the asset is verified; should one not, the wait counts too.
    const deadline = Date.now() + 60_000;
    while ((manifest.status === "pending" || manifest.status === "uploaded") && Date.now() < deadline) {
      await sleep(50);
      manifest = await client.assets.get(manifest.id);
    }
  } finally {
    recorder.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const serverCores = serverCpu();
  const clientCores = clientCpu();
  const peakSampledRss = rss();
  const clientBuffersMiB = clientBuffers();

  if (path.plan && plan !== path.plan) {
    throw new Error(`${path.label}: the server planned a ${plan ?? "no"} upload, not ${path.plan} (did its thresholds change?)`);
  }
  const finishing = recorder.requests.filter((r) => path.finishing(r.method, r.path)).at(-1);
  if (!finishing) throw new Error(`${path.label}: no finishing request seen (diagnostics channels not published?)`);
  const settled = manifest.status === "verified" || manifest.status === "ready";
  return {
    path: path.key,
    mbPerSecond: bytes / 1e6 / seconds,
    seconds,
    completeSeconds: (finishing.headersAt - finishing.bodySentAt) / 1000,
    requests: recorder.requests.length,
    status: manifest.status,
    verified: settled && manifest.size === bytes && (expectedSha256 === undefined || manifest.sha256 === expectedSha256),
    vmHwmMiB: statusMiB(server.pid, "VmHWM") ?? Number.NaN,
    baselineHwmMiB: baselineHwm,
    peakSampledRssMiB: peakSampledRss,
    clientBuffersMiB,
    clientBuffersBeforeMiB,
    serverCores,
    clientCores,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

let collect: (() => void) | undefined;

/**
 * Collects garbage and waits (at most 5 s) until the harness holds less than 64 MiB of
 * ArrayBuffers, so the next upload's client figure is its own: undici lets go of a sent
 * body a second or two after the answer, and the next upload starts sooner than that.
 * Returns what is still held, in MiB.
 */
async function settleClientMemory(): Promise<number> {
  if (!collect) {
    // The harness is not started with --expose-gc; this exposes it to a fresh context only.
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  const deadline = Date.now() + 5_000;
  for (;;) {
    collect();
    const held = process.memoryUsage().arrayBuffers;
    if (held < 64 * MiB || Date.now() > deadline) return held / MiB;
    await sleep(200);
  }
}

/**
 * The harness's ArrayBuffer memory, sampled every `intervalMs` until stopped; the peak in
 * MiB. Unlike its RSS, this falls back once bodies are collected, so it belongs to one upload.
 */
function arrayBufferSampler(intervalMs = 50): () => number {
  let peak = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), intervalMs);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage().arrayBuffers) / MiB;
  };
}
