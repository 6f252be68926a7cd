import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric, sha256, startApp, type TestApp } from "../helpers/app.js";
import { fixture, fixturePath } from "../helpers/fixtures.js";
import { BIN } from "../helpers/process.js";

/**
 * The client commands (put, get, ls, rm, quota, sweep, stats) as a user runs them: the
 * built CLI (`node bin/assetd.js`, so `npm run build` first) as a child process against a
 * real server, configured only through ASSETD_URL and ASSETD_TOKEN.
 */

const MIB = 1024 * 1024;
const PHOTO = "photos/canon-eos-400d-storm-1920x1280.jpg";

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** stderr is a pipe here, not a TTY: put reports one summary line per file, no bar. */
function cli(app: TestApp, token: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ASSETD_URL: app.url, ASSETD_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** Runs a command that must succeed and returns its standard output as JSON. */
async function cliJson(app: TestApp, token: string, args: string[]): Promise<any> {
  const run = await cli(app, token, args);
  expect(run.stderr, `assetd ${args.join(" ")}`).not.toMatch(/^assetd: /m);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout.toString());
}

const requests = (app: TestApp, method: string, route: string) =>
  metric(app, "assetd_http_request_duration_seconds_count", { method, route });

describe("assetd CLI client commands", () => {
  let app: TestApp;
  let dir: string;
  let bob: string;
  let photoId: string;

  beforeAll(async () => {
    // Low thresholds so a 12 MiB file goes in parts.
    app = await startApp({ ASSETD_MULTIPART_THRESHOLD: "5MiB", ASSETD_PART_SIZE: "5MiB" });
    bob = await app.token("bob");
    dir = await mkdtemp(join(tmpdir(), "assetd-cli-"));
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("put uploads a file: the manifest on stdout, one summary line on stderr", async () => {
    const photo = fixture(PHOTO);
    const run = await cli(app, bob, ["put", "--tag", "album=storms", "--wait", "10", fixturePath(PHOTO)]);
    expect(run.code).toBe(0);
    const manifest = JSON.parse(run.stdout.toString());
    expect(manifest).toMatchObject({
      owner: "bob", filename: "canon-eos-400d-storm-1920x1280.jpg", size: photo.length, sha256: sha256(photo),
      contentType: "image/jpeg", tags: { album: "storms" }, public: false,
    });
    expect(run.stderr).toMatch(new RegExp(`^${fixturePath(PHOTO)}: ${manifest.id} \\w+ \\(\\d+\\.\\d MB/s\\)$`, "m"));
    photoId = manifest.id;
  });

  it("put --method multipart sends a 12 MiB file in parts through an upload session", async () => {
    const data = randomBytes(12 * MIB + 4321);
    const file = join(dir, "random.bin");
    await writeFile(file, data);
    const completes = await requests(app, "POST", "/v1/uploads/:id/complete");
    const manifest = await cliJson(app, bob, ["put", "--method", "multipart", "--concurrency", "2", file]);
    expect(manifest).toMatchObject({ filename: "random.bin", size: data.length, sha256: sha256(data) });
    expect(await requests(app, "POST", "/v1/uploads/:id/complete")).toBe(completes + 1);
  });

  it("put --resumable uploads through tus", async () => {
    const data = randomBytes(3 * MIB);
    const file = join(dir, "resumable.bin");
    await writeFile(file, data);
    const before = await requests(app, "POST", "/v1/tus");
    const manifest = await cliJson(app, bob, ["put", "--resumable", file]);
    expect(manifest).toMatchObject({ filename: "resumable.bin", size: data.length, sha256: sha256(data) });
    expect(await requests(app, "POST", "/v1/tus")).toBe(before + 1);
  });

  it("put refuses contradictory or malformed options before sending anything", async () => {
    const conflicting = await cli(app, bob, ["put", "--resumable", "--method", "direct", fixturePath(PHOTO)]);
    expect(conflicting.code).toBe(1);
    expect(conflicting.stderr).toMatch(/--resumable .* --method direct/);
    const badMethod = await cli(app, bob, ["put", "--method", "carrier-pigeon", fixturePath(PHOTO)]);
    expect(badMethod.code).not.toBe(0);
    expect(badMethod.stderr).toMatch(/carrier-pigeon/);
    const badConcurrency = await cli(app, bob, ["put", "--concurrency", "0", fixturePath(PHOTO)]);
    expect(badConcurrency.code).not.toBe(0);
    expect(badConcurrency.stdout.length).toBe(0);
  });

  it("ls lists the uploaded assets, one tab-separated line each", async () => {
    const run = await cli(app, bob, ["ls"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().trim().split("\n").map((line) => line.split("\t"));
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l[4])).toEqual(["resumable.bin", "random.bin", "canon-eos-400d-storm-1920x1280.jpg"]);
    expect(lines.find((l) => l[0] === photoId)).toEqual([photoId, expect.any(String), "image/jpeg", String(fixture(PHOTO).length), "canon-eos-400d-storm-1920x1280.jpg"]);
    const tagged = await cli(app, bob, ["ls", "--tag", "album:storms"]);
    expect(tagged.stdout.toString().trim().split("\n").map((l) => l.split("\t")[0])).toEqual([photoId]);
  });

  it("get -o writes the original's exact bytes", async () => {
    const out = join(dir, "copy.jpg");
    const run = await cli(app, bob, ["get", photoId, "-o", out]);
    expect(run.code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(fixture(PHOTO)));
  });

  it("get -t streams a variant to stdout: 300 px wide WebP", async () => {
    const run = await cli(app, bob, ["get", photoId, "-t", "w=300&fmt=webp"]);
    expect(run.code).toBe(0);
    const meta = await sharp(run.stdout).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 300, height: 200 });
  });

  it("get -t passes a query the client cannot type through for the server to judge", async () => {
    // `pos=top` is a server alias; `w=0` is out of range and comes back as the server's 400.
    const alias = await cli(app, bob, ["get", photoId, "-t", "w=200&h=200&pos=top&fmt=png"]);
    expect(alias.code).toBe(0);
    expect(await sharp(alias.stdout).metadata()).toMatchObject({ format: "png", width: 200, height: 200 });
    const invalid = await cli(app, bob, ["get", photoId, "-t", "w=0"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^assetd: 400 invalid_parameter: /m);
  });

  it("rm deletes; get then fails with 404 not_found and exit code 1", async () => {
    const removed = await cli(app, bob, ["rm", photoId]);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain(`deleted ${photoId}`);
    const out = join(dir, "gone.jpg");
    const run = await cli(app, bob, ["get", photoId, "-o", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^assetd: 404 not_found: /m);
    expect(run.stdout.length).toBe(0);
    // A refused download leaves no empty file behind.
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("quota --set limits an owner: a 2 MB put over it fails with 403 quota_exceeded", async () => {
    const alice = await app.token("alice");
    const quota = await cliJson(app, app.admin, ["quota", "alice", "--set", "1MB"]);
    expect(quota).toMatchObject({ owner: "alice", source: "owner" });
    expect(quota.maxBytes).toBeGreaterThanOrEqual(1_000_000);
    expect(quota.maxBytes).toBeLessThan(2_000_000);
    expect(await cliJson(app, app.admin, ["quota", "alice"])).toEqual(quota);

    // Refused when the session opens, before any byte is sent (the path `auto` takes from 8 MiB).
    const file = join(dir, "two-mb.bin");
    await writeFile(file, randomBytes(2_000_000));
    const run = await cli(app, alice, ["put", "--method", "presigned", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^assetd: 403 quota_exceeded: /m);
    expect(run.stdout.length).toBe(0);

    const notAdmin = await cli(app, alice, ["quota", "alice", "--set", "1GB"]);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/^assetd: 403 forbidden: /m);
    const badSize = await cli(app, app.admin, ["quota", "alice", "--set", "lots"]);
    expect(badSize.code).toBe(1);
    expect(badSize.stderr).toMatch(/expected a size/);
  });

  // The server refuses before reading the body; it reads and discards it first, so the
  // streaming client gets the answer instead of a reset connection (EPIPE).
  it("put (direct) over the quota fails with 403 quota_exceeded", async () => {
    const alice = await app.token("alice");
    await cliJson(app, app.admin, ["quota", "alice", "--set", "1MB"]);
    const file = join(dir, "two-mb-direct.bin");
    await writeFile(file, randomBytes(2_000_000));
    for (let i = 0; i < 5; i++) {
      const run = await cli(app, alice, ["put", file]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^assetd: 403 quota_exceeded: /m);
    }
  });

  it("sweep prints the report as JSON; stats prints figures", async () => {
    expect(await cliJson(app, app.admin, ["sweep"])).toEqual({
      sessions: expect.any(Number), multipart: expect.any(Number), objects: expect.any(Number),
    });
    const stats = await cliJson(app, bob, ["stats"]);
    expect(stats).toMatchObject({ scope: "owner", logicalBytes: expect.any(Number) });
  });

  it("an unreachable server is named in the error", async () => {
    // A port that was free a moment ago: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const run = await cli({ ...app, url: `http://127.0.0.1:${port}` }, bob, ["ls"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`assetd: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });
});
