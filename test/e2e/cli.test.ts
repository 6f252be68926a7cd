import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric, sha256, startApp, type TestApp } from "../helpers/app.js";
import { fixture, fixturePath } from "../helpers/fixtures.js";
import { BIN } from "../helpers/process.js";

/**
 * The client commands (put, get, ls, info, url, share, rm, quota, sweep, stats) as a user runs them: the
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

/** Whether uploads go straight to the store (S3 presigned URLs) rather than through this service. */
const directStore = (app: TestApp) => app.runtime.store.capabilities.presign;

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
    const parts = await requests(app, "PUT", "/v1/uploads/:id/parts/:n");
    const manifest = await cliJson(app, bob, ["put", "--method", "multipart", "--concurrency", "2", file]);
    expect(manifest).toMatchObject({ filename: "random.bin", size: data.length, sha256: sha256(data) });
    expect(await requests(app, "POST", "/v1/uploads/:id/complete")).toBe(completes + 1);
    // On S3 the parts go to presigned bucket URLs, which this service never sees.
    expect(await requests(app, "PUT", "/v1/uploads/:id/parts/:n")).toBe(parts + (directStore(app) ? 0 : 3));
  });

  it("put --method multipart uses parts even below the server's multipart threshold", async () => {
    const data = randomBytes(2 * MIB);
    const file = join(dir, "small-parts.bin");
    await writeFile(file, data);
    const parts = await requests(app, "PUT", "/v1/uploads/:id/parts/:n");
    const single = await requests(app, "PUT", "/v1/uploads/:id/data");
    const manifest = await cliJson(app, bob, ["put", "--method", "multipart", file]);
    expect(manifest).toMatchObject({ size: data.length, sha256: sha256(data) });
    expect(await requests(app, "PUT", "/v1/uploads/:id/parts/:n")).toBe(parts + (directStore(app) ? 0 : 1));
    expect(await requests(app, "PUT", "/v1/uploads/:id/data")).toBe(single);
    await cli(app, bob, ["rm", manifest.id]);
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

  it("ls prints a table with a header, human sizes and dates; --json one manifest per line", async () => {
    const run = await cli(app, bob, ["ls"]);
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.toString().trimEnd().split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["ID", "STATUS", "TYPE", "SIZE", "CREATED", "NAME"]);
    expect(rows.map((row) => row.split(/\s{2,}/).at(-1))).toEqual(["resumable.bin", "random.bin", "canon-eos-400d-storm-1920x1280.jpg"]);
    const photoRow = rows.find((row) => row.startsWith(photoId))!.split(/\s{2,}/);
    expect(photoRow.slice(2)).toEqual(["image/jpeg", "679 KiB", expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/), "canon-eos-400d-storm-1920x1280.jpg"]);

    const json = await cli(app, bob, ["ls", "--json", "--limit", "1", "--all"]);
    const manifests = json.stdout.toString().trim().split("\n").map((line) => JSON.parse(line));
    expect(manifests.map((m) => m.filename)).toEqual(["resumable.bin", "random.bin", "canon-eos-400d-storm-1920x1280.jpg"]);

    // One tag syntax on every command: key=value, as put sets it.
    const tagged = await cli(app, bob, ["ls", "--json", "--tag", "album=storms"]);
    expect(tagged.stdout.toString().trim().split("\n").map((l) => JSON.parse(l).id)).toEqual([photoId]);
    const colon = await cli(app, bob, ["ls", "--tag", "album:storms"]);
    expect(colon.code).not.toBe(0);
    expect(colon.stderr).toMatch(/expected key=value, got 'album:storms'/);
  });

  it("put goes on past a refused or missing file, uploads folders recursively, and names what failed", async () => {
    const folder = join(dir, "batch");
    await mkdir(join(folder, "nested"), { recursive: true });
    await writeFile(join(folder, "a.png"), fixture("formats/alpha-debian-emblem-256x256.png"));
    await writeFile(join(folder, "nested", "b.html.png"), fixture("hostile/really-html.png"));
    await writeFile(join(folder, "nested", "c.webp"), fixture("formats/lossy-freshflower-800x602.webp"));
    const missing = join(dir, "no-such-file.jpg");
    const run = await cli(app, bob, ["put", folder, missing]);
    expect(run.code).toBe(1);
    const manifests = run.stdout.toString().trim().split(/\n(?=\{)/).map((text) => JSON.parse(text));
    expect(manifests.map((m) => m.filename)).toEqual(["a.png", "c.webp"]);
    expect(run.stderr).toContain(`${missing}: no such file or folder`);
    expect(run.stderr).toMatch(/b\.html\.png: failed: 415 type_mismatch/);
    expect(run.stderr).toMatch(new RegExp(`assetd: 2 of 4 not uploaded: ${missing}, .*b\\.html\\.png$`, "m"));
    for (const m of manifests) await cli(app, bob, ["rm", m.id]);
  });

  it("info prints the manifest (and --events the history); url prints the canonical delivery URL", async () => {
    const info = await cliJson(app, bob, ["info", photoId, "--events"]);
    expect(info).toMatchObject({ id: photoId, filename: "canon-eos-400d-storm-1920x1280.jpg" });
    expect(info.events.map((e: { to: string }) => e.to)).toContain("ready");
    const url = await cli(app, bob, ["url", photoId, "-t", "fmt=webp&w=300"]);
    expect(url.stdout.toString().trim()).toBe(`${app.url}/a/${photoId}?w=300&fmt=webp`);
  });

  it("share prints a download link anyone can use; share --with grants and --revoke takes it back", async () => {
    const link = await cli(app, bob, ["share", photoId, "--ttl", "600"]);
    expect(link.code).toBe(0);
    const anonymous = await fetch(link.stdout.toString().trim());
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(sha256(Buffer.from(await anonymous.arrayBuffer()))).toBe(sha256(fixture(PHOTO)));

    const carol = await app.token("carol");
    expect((await fetch(`${app.url}/v1/assets/${photoId}`, { headers: { authorization: `Bearer ${carol}` } })).status).toBe(404);
    expect(await cliJson(app, bob, ["share", photoId, "--with", "carol"])).toEqual([{ principal: "carol", permission: "read" }]);
    expect((await fetch(`${app.url}/v1/assets/${photoId}`, { headers: { authorization: `Bearer ${carol}` } })).status).toBe(200);
    expect(await cliJson(app, bob, ["share", photoId, "--with", "carol", "--revoke"])).toEqual([]);
    expect((await fetch(`${app.url}/v1/assets/${photoId}`, { headers: { authorization: `Bearer ${carol}` } })).status).toBe(404);
  });

  it("get -o writes the original's exact bytes", async () => {
    const out = join(dir, "copy.jpg");
    const run = await cli(app, bob, ["get", photoId, "-o", out]);
    expect(run.code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(fixture(PHOTO)));
  });

  it("get will not write an image to a terminal: it asks for -o or a redirect", async () => {
    // `script` (util-linux) runs the command with its standard output on a pseudo-terminal.
    const run = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn("script", ["-qec", `${process.execPath} ${BIN} get ${photoId}`, "/dev/null"], {
        env: { ...process.env, ASSETD_URL: app.url, ASSETD_TOKEN: bob },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString("latin1")));
      child.stderr.on("data", (d: Buffer) => (output += d.toString("latin1")));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, output }));
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/not writing image\/jpeg to the terminal: pass -o FILE/);
    expect(run.output.length).toBeLessThan(1000);
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
