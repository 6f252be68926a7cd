import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { ulid } from "ulid";
import { rawKey } from "../../src/domain/content-address.js";
import { largestPhoto } from "../lib/fixtures.js";
import { httpRequest } from "../lib/http.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
import { measureSides, pinningNote, requireWrk, type SideResult } from "../lib/pinned.js";
import type { Scenario, ScenarioContext, ScenarioResult } from "../lib/types.js";
import { pin } from "../lib/wrk.js";

const CONNECTIONS = 64;
/** The default ASSETD_SCRUB_RATE, MB/s. */
const SCRUB_RATE_MB = 20;
/** Share of the seeded assets that were purged, so their content is gc's to collect. */
const PURGED_SHARE = 0.1;

/**
 * What the maintenance passes cost (DESIGN §10 "Operations"): a scrub at its default rate
 * while cached variants are served (req/s of the same hit with and without the scrub, in
 * one run, pinned like cached-delivery), and one gc pass over a database of 100k assets
 * (quick: 5k) of which a tenth were purged, with every original stored as a file.
 */
export const storeCare: Scenario = {
  name: "store-care",
  title: "scrub beside cached delivery; gc over 100k assets",
  async run(ctx, result) {
    await scrubBesideDelivery(ctx, result);
    await gcOverRows(ctx, result);
  },
};

async function scrubBesideDelivery(ctx: ScenarioContext, result: ScenarioResult): Promise<void> {
  const seconds = ctx.mode === "quick" ? 2 : 15;
  const warmup = ctx.mode === "quick" ? 1 : 3;
  const pinning = requireWrk(ctx.log);
  const server = await launchAssetd(ctx, result, {
    ...UNLIMITED, ASSETD_SCRUB_RATE: String(SCRUB_RATE_MB), ASSETD_SCRUB_INTERVAL: "0", ASSETD_LIFECYCLE_INTERVAL: "0", ASSETD_GC_INTERVAL: "0",
  }, "scrub-data");
  // Enough originals that the scrub outlasts the warm-up and the measured run at its rate.
  const mb = Math.ceil(SCRUB_RATE_MB * (warmup + seconds) * 1.4);
  const count = Math.ceil(mb / 8);
  for (let i = 0; i < count; i++) await server.upload(randomBytes(8_000_000), { contentType: "application/octet-stream", filename: `o${i}.bin` });
  const photo = await largestPhoto();
  const asset = await server.upload(await readFile(photo.path), { contentType: "image/jpeg", filename: basename(photo.path), public: true, waitSeconds: 10 });
  const path = `/a/${asset.id}?w=600&fmt=webp`;
  await httpRequest(`${server.url}${path}`);
  const hit = await httpRequest(`${server.url}${path}`, { headers: adminOf(server) });
  if (hit.headers["x-cache"] !== "HIT") throw new Error(`the variant is not served from the cache: X-Cache=${String(hit.headers["x-cache"])}`);
  if (pinning) pin(server.pid, pinning.server);
  ctx.log(`${count} originals of 8 MB stored; variant ${path}: ${hit.body.length} bytes`);

  const side = { url: `${server.url}${path}`, pids: () => [server.pid], server };
  const idle = (await measureSides([{ name: "idle", ...side }], { connections: CONNECTIONS, warmup, seconds, pinning, log: ctx.log })).idle!;
  const scrubbing = httpRequest(`${server.url}/v1/admin/scrub`, {
    method: "POST", headers: { ...adminOf(server), "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ limit: count + 1 })), timeoutMs: 600_000,
  });
  const during = (await measureSides([{ name: "during scrub", ...side }], { connections: CONNECTIONS, warmup, seconds, pinning, log: ctx.log }))["during scrub"]!;
  const answer = await scrubbing;
  if (answer.status !== 200) throw new Error(`scrub answered ${answer.status}: ${answer.body.toString()}`);
  const report = JSON.parse(answer.body.toString()) as { checked: number; bytes: number; durationMs: number; mbPerSecond: number; corrupt: number; missing: number };
  const perCore = (r: SideResult) => r.perCore ?? r.rps;
  const ratio = perCore(during) / perCore(idle);
  const outlasted = report.durationMs >= (warmup + seconds) * 1000;
  result.rows.push(
    { metric: `cached hit req/s per server core while scrub runs, ${CONNECTIONS} conns`, unit: "", assetd: perCore(during), peer: perCore(idle),
      peerName: "same hit, no scrub", ratio, target: "≥ 0.8× (scrub never starves delivery)", pass: ratio >= 0.8 },
    { metric: "p99 latency ms while scrub runs", unit: "", assetd: during.p99, peer: idle.p99, peerName: "no scrub" },
    { metric: `scrub MB/s (ASSETD_SCRUB_RATE=${SCRUB_RATE_MB})`, unit: "", assetd: report.mbPerSecond, peer: SCRUB_RATE_MB, peerName: "configured rate",
      ratio: report.mbPerSecond / SCRUB_RATE_MB, target: "≤ 1.05× of the rate", pass: report.mbPerSecond <= SCRUB_RATE_MB * 1.05 },
    { metric: "scrub: originals checked, corrupt + missing", unit: "", assetd: report.checked, peer: report.corrupt + report.missing, peerName: "damaged (0 expected)" },
  );
  result.notes.push(
    pinningNote(pinning, CONNECTIONS, warmup, seconds),
    `scrub: ${report.checked} originals, ${(report.bytes / 1e6).toFixed(0)} MB in ${(report.durationMs / 1000).toFixed(1)} s` +
      (outlasted ? ", running through the whole measured run" : ", which ended before the measured run did: the 'while scrub runs' side is partly idle"),
  );
  result.details = { ...result.details, scrub: { report, idle, during, count } };
  await server.stop();
}

async function gcOverRows(ctx: ScenarioContext, result: ScenarioResult): Promise<void> {
  const rows = ctx.mode === "quick" ? 5_000 : 100_000;
  // Start once so the database is migrated, then seed it directly: uploading 100k files
  // through HTTP would take longer than every other scenario together.
  const first = await launchAssetd(ctx, result, { ASSETD_GC_INTERVAL: "0", ASSETD_SCRUB_INTERVAL: "0", ASSETD_LIFECYCLE_INTERVAL: "0" }, "gc-data");
  const dataDir = first.dataDir;
  await first.stop();
  const started = performance.now();
  const purged = await seed(dataDir, rows);
  ctx.log(`seeded ${rows} assets (${purged} purged) and their originals in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const server = await launchAssetd(ctx, result, { ASSETD_GC_INTERVAL: "0", ASSETD_SCRUB_INTERVAL: "0", ASSETD_LIFECYCLE_INTERVAL: "0" }, "gc-data");
  const answer = await httpRequest(`${server.url}/v1/admin/gc`, {
    method: "POST", headers: { ...adminOf(server), "content-type": "application/json" }, body: Buffer.from("{}"), timeoutMs: 1_800_000,
  });
  if (answer.status !== 200) throw new Error(`gc answered ${answer.status}: ${answer.body.toString()}`);
  const report = JSON.parse(answer.body.toString()) as { durationMs: number; blobs: { removed: number }; orphans: { found: number }; errors: number };
  result.rows.push(
    { metric: `gc pass, ${rows.toLocaleString("en-US")} assets with their originals, ${Math.round(PURGED_SHARE * 100)} % purged: seconds`, unit: "",
      assetd: report.durationMs / 1000 },
    { metric: "gc: purged content collected", unit: "", assetd: report.blobs.removed, peer: purged, peerName: "purged",
      ratio: report.blobs.removed / purged, target: "= 1", pass: report.blobs.removed === purged && report.errors === 0 },
  );
  result.notes.push(`gc: the database seeded directly (SQLite), ${rows} originals of 64 bytes as files in the store; the pass lists the whole store for orphans (found ${report.orphans.found}).`);
  result.details = { ...result.details, gc: { rows, purged, report } };
}

/** `rows` ready assets, each with its own content, a tenth of them purged long ago (refcount 0). */
async function seed(dataDir: string, rows: number): Promise<number> {
  const db = new Database(join(dataDir, "assetd.db"));
  const now = Date.now();
  const old = now - 2 * 24 * 3600 * 1000;
  const blob = db.prepare("INSERT INTO blob (sha256, size, storage_key, sniffed_type, refcount, created_at, last_verified_at, state, generation, released_at) VALUES (?, ?, ?, 'application/octet-stream', ?, ?, NULL, 'live', 1, ?)");
  const asset = db.prepare(`INSERT INTO asset (id, owner, blob_sha256, filename, declared_type, content_type, kind, size, status, failure_code, failure_message, public, meta, created_at, updated_at, deleted_at, trashed_from, purged_at)
    VALUES (?, 'bench', ?, 'f.bin', NULL, 'application/octet-stream', 'other', ?, ?, NULL, NULL, 0, '{}', ?, ?, ?, NULL, ?)`);
  const files: Array<[string, Buffer]> = [];
  let purged = 0;
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const bytes = randomBytes(64);
      const sha = createHash("sha256").update(bytes).digest("hex");
      const gone = i % Math.round(1 / PURGED_SHARE) === 0;
      if (gone) purged++;
      blob.run(sha, bytes.length, rawKey(sha), gone ? 0 : 1, old, gone ? old : null);
      asset.run(ulid(old + i), sha, bytes.length, gone ? "deleted" : "ready", old, old, gone ? old : null, gone ? old : null);
      files.push([join(dataDir, "store", rawKey(sha)), bytes]);
    }
  })();
  db.close();
  for (let i = 0; i < files.length; i += 64) {
    await Promise.all(files.slice(i, i + 64).map(async ([path, bytes]) => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }));
  }
  return purged;
}
