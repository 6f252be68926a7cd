import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { Upload, type DetailedError, type HttpRequest, type HttpResponse, type PreviousUpload, type UrlStorage } from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, settled, sha256, startApp, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";
import { findTestS3 } from "../helpers/s3.js";
import { parseS3Url } from "../../src/domain/storage-url.js";

/**
 * Resumable uploads through a real server and the real tus-js-client: chunked uploads,
 * an interrupted upload resumed from the server's offset, ownership, type and quota checks,
 * termination, and no tus data left behind once an upload is over.
 */

const JPEG = fixture("photos/canon-eos-400d-storm-1920x1280.jpg");
const PNG = fixture("formats/alpha-debian-emblem-256x256.png");
const MIB = 1024 * 1024;

/** tus-js-client's URL storage, in memory: what a browser keeps in localStorage. */
class MemoryUrlStorage implements UrlStorage {
  private readonly uploads = new Map<string, PreviousUpload & { fingerprint: string }>();
  private next = 0;
  async findAllUploads() {
    return [...this.uploads.values()];
  }
  async findUploadsByFingerprint(fingerprint: string) {
    return [...this.uploads.values()].filter((u) => u.fingerprint === fingerprint);
  }
  async removeUpload(key: string) {
    this.uploads.delete(key);
  }
  async addUpload(fingerprint: string, upload: PreviousUpload) {
    const key = `upload-${this.next++}`;
    this.uploads.set(key, { ...upload, urlStorageKey: key, fingerprint });
    return key;
  }
}

interface Outcome {
  url: string;
  assetId: string | undefined;
  assetStatus: string | undefined;
  error?: DetailedError;
  /** Upload-Offset of every PATCH sent, in order. */
  patchOffsets: number[];
}

/** Runs one tus-js-client upload to its end (success or error). */
function runUpload(
  app: TestApp,
  token: string,
  data: Buffer,
  options: Partial<ConstructorParameters<typeof Upload>[1]> & { prepare?: (upload: Upload) => void | Promise<void> } = {},
): Promise<Outcome> {
  const { prepare, ...rest } = options;
  return new Promise((resolve) => {
    const outcome: Outcome = { url: "", assetId: undefined, assetStatus: undefined, patchOffsets: [] };
    const upload: Upload = new Upload(data, {
      endpoint: `${app.url}/v1/tus`,
      headers: bearer(token),
      chunkSize: 256 * 1024,
      retryDelays: null,
      ...rest,
      onBeforeRequest(req: HttpRequest) {
        if (req.getMethod() === "PATCH") outcome.patchOffsets.push(Number(req.getHeader("Upload-Offset")));
      },
      onAfterResponse(_req: HttpRequest, res: HttpResponse) {
        outcome.assetId = res.getHeader("Asset-Id") ?? outcome.assetId;
        outcome.assetStatus = res.getHeader("Asset-Status") ?? outcome.assetStatus;
      },
      onSuccess() {
        outcome.url = upload.url ?? "";
        resolve(outcome);
      },
      onError(error) {
        outcome.url = upload.url ?? "";
        outcome.error = error as DetailedError;
        resolve(outcome);
      },
    });
    void Promise.resolve(prepare?.(upload)).then(() => upload.start());
  });
}

const tusHeaders = (token?: string) => ({ "tus-resumable": "1.0.0", ...(token ? bearer(token) : {}) });

async function head(app: TestApp, url: string, token?: string): Promise<Response> {
  const response = await fetch(url, { method: "HEAD", headers: tusHeaders(token) });
  await response.arrayBuffer();
  return response;
}

/** Creates an upload with a plain POST; answers the raw response. */
async function create(app: TestApp, token: string | undefined, size: number, metadata: Record<string, string>): Promise<Response> {
  const encoded = Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(v).toString("base64")}`).join(",");
  return fetch(`${app.url}/v1/tus`, {
    method: "POST",
    headers: { ...tusHeaders(token), "upload-length": String(size), "upload-metadata": encoded },
  });
}

async function original(app: TestApp, token: string, id: string): Promise<Buffer> {
  const response = await fetch(`${app.url}/a/${id}`, { headers: bearer(token) });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** What tus still holds for an upload: files in `<dataDir>/tus`, or objects and multipart uploads under `<prefix>/tus/`. */
async function tusLeftovers(app: TestApp, id: string): Promise<string[]> {
  if (BACKEND === "embedded") {
    return (await readdir(join(app.dataDir, "tus")).catch(() => [] as string[])).filter((name) => name.startsWith(id));
  }
  const objects = (await app.storedObjects()).filter((key) => key.startsWith(`tus/${id}`));
  const s3 = await findTestS3();
  if (!s3.available) throw new Error(s3.reason);
  const prefix = parseS3Url(app.runtime.config.storageUrl).prefix ?? "";
  const listed = await s3.admin.send(new ListMultipartUploadsCommand({ Bucket: s3.options.bucket, Prefix: `${prefix}/tus/${id}` }));
  return [...objects, ...(listed.Uploads ?? []).map((u) => `multipart:${u.Key}`)];
}

const idOf = (url: string): string => new URL(url).pathname.split("/").pop()!;

describe(`tus resumable uploads (${BACKEND})`, () => {
  let app: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_SWEEP_INTERVAL: "0" });
    alice = await app.token("alice");
    bob = await app.token("bob");
  });
  afterAll(async () => app?.close());

  it("answers the preflight without a token and advertises its extensions", async () => {
    const response = await fetch(`${app.url}/v1/tus`, { method: "OPTIONS", headers: { origin: "https://app.example" } });
    expect(response.status).toBe(204);
    expect(response.headers.get("tus-version")).toBe("1.0.0");
    expect(response.headers.get("tus-extension")?.split(",")).toEqual(expect.arrayContaining(["creation", "termination", "expiration"]));
    expect(Number(response.headers.get("tus-max-size"))).toBe(app.runtime.config.maxUploadBytes);
    expect(response.headers.get("access-control-allow-origin")).toBeTruthy();
    expect(response.headers.get("access-control-allow-headers")).toMatch(/authorization/i);
    expect(response.headers.get("access-control-expose-headers")).toMatch(/Asset-Id/);
  });

  it("uploads a photo in several PATCHes, then serves exactly its bytes", async () => {
    const outcome = await runUpload(app, alice, JPEG, { metadata: { filename: "storm.jpg", filetype: "image/jpeg" }, chunkSize: 200_000 });
    expect(outcome.error).toBeUndefined();
    expect(outcome.patchOffsets).toEqual([0, 200_000, 400_000, 600_000]);
    // tus-js-client resolved the relative Location against the endpoint.
    expect(outcome.url).toBe(`${app.url}/v1/tus/${outcome.assetId}`);
    expect(outcome.assetStatus).toBe("verified");

    const manifest = await settled(app, alice, outcome.assetId!);
    expect(manifest.status).toBe("ready");
    expect(manifest.filename).toBe("storm.jpg");
    expect(manifest.contentType).toBe("image/jpeg");
    expect(manifest.size).toBe(JPEG.length);
    expect(sha256(await original(app, alice, outcome.assetId!))).toBe(sha256(JPEG));
    expect(await tusLeftovers(app, outcome.assetId!)).toEqual([]);
    // The session is over: the upload URL is gone.
    expect((await head(app, outcome.url, alice)).status).toBe(404);
  });

  it("takes the bytes in the creation request too (creation-with-upload), with tags and visibility", async () => {
    const outcome = await runUpload(app, alice, PNG, {
      metadata: { name: "emblem.png", type: "image/png", public: "true", tags: JSON.stringify({ album: "logos" }) },
      uploadDataDuringCreation: true,
      chunkSize: 1 * MIB,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.patchOffsets).toEqual([]);
    const manifest = await settled(app, alice, outcome.assetId!);
    expect(manifest).toMatchObject({ status: "ready", filename: "emblem.png", public: true, tags: { album: "logos" } });
    const anonymous = await fetch(`${app.url}/a/${outcome.assetId}`);
    expect(sha256(Buffer.from(await anonymous.arrayBuffer()))).toBe(sha256(PNG));
  });

  it("resumes an interrupted upload from the server's offset", async () => {
    const data = randomBytes(12 * MIB);
    const urlStorage = new MemoryUrlStorage();
    const options = { metadata: { filename: "random.bin", filetype: "application/octet-stream" }, chunkSize: MIB, urlStorage };

    // First run: aborted once more than half has been sent.
    let first: Upload | undefined;
    let aborted: Promise<void> | undefined;
    const interrupted = await new Promise<Outcome>((resolve) => {
      void runUpload(app, alice, data, {
        ...options,
        prepare: (upload) => {
          first = upload;
        },
        onProgress(sent, total) {
          if (!aborted && sent > total / 2) {
            aborted = first!.abort();
            void aborted.then(() => resolve({ url: first!.url ?? "", assetId: undefined, assetStatus: undefined, patchOffsets: [] }));
          }
        },
      }).then(resolve);
    });
    expect(interrupted.error).toBeUndefined();
    const url = interrupted.url;
    expect(url).toMatch(/\/v1\/tus\/[0-9A-Z]{26}$/);

    // The server kept what arrived: about half.
    const state = await head(app, url, alice);
    expect(state.status).toBe(200);
    const offset = Number(state.headers.get("upload-offset"));
    expect(Number(state.headers.get("upload-length"))).toBe(data.length);
    expect(offset).toBeGreaterThanOrEqual(5 * MIB);
    expect(offset).toBeLessThan(data.length);

    // Second run: the client finds the upload by the file's fingerprint and continues.
    let previous: PreviousUpload[] = [];
    const resumed = await runUpload(app, alice, data, {
      ...options,
      prepare: async (upload) => {
        previous = await upload.findPreviousUploads();
        upload.resumeFromPreviousUpload(previous[0]!);
      },
    });
    expect(previous).toHaveLength(1);
    expect(resumed.error).toBeUndefined();
    expect(resumed.url).toBe(url);
    expect(resumed.patchOffsets[0]).toBe(offset);
    expect(resumed.patchOffsets.length).toBeLessThan(12);
    expect(resumed.assetId).toBe(idOf(url));

    const manifest = await settled(app, alice, idOf(url));
    expect(manifest.status).toBe("ready");
    expect(manifest.size).toBe(data.length);
    expect(manifest.sha256).toBe(sha256(data));
    expect(sha256(await original(app, alice, idOf(url)))).toBe(sha256(data));
    expect(await tusLeftovers(app, idOf(url))).toEqual([]);
  });

  it("needs a token, and hides one user's upload from another", async () => {
    const anonymous = await create(app, undefined, PNG.length, { filename: "x.png", filetype: "image/png" });
    expect(anonymous.status).toBe(401);
    expect((await json(anonymous)).error.code).toBe("unauthorized");

    const created = await create(app, alice, PNG.length, { filename: "mine.png", filetype: "image/png" });
    expect(created.status).toBe(201);
    const id = created.headers.get("asset-id")!;
    const url = new URL(created.headers.get("location")!, `${app.url}/v1/tus`).toString();
    expect(idOf(url)).toBe(id);

    expect((await head(app, url)).status).toBe(401);
    const peek = await head(app, url, bob);
    expect(peek.status).toBe(404);
    expect(peek.headers.get("upload-offset")).toBeNull();
    const write = await fetch(url, {
      method: "PATCH",
      headers: { ...tusHeaders(bob), "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      body: PNG,
    });
    expect(write.status).toBe(404);
    expect((await json(write)).error.code).toBe("not_found");
    const terminate = await fetch(url, { method: "DELETE", headers: tusHeaders(bob) });
    expect(terminate.status).toBe(404);
    // An unknown id looks the same as someone else's.
    expect((await head(app, `${app.url}/v1/tus/01ARZ3NDEKTSV4RRFFQ69G5FAV`, bob)).status).toBe(404);

    // Untouched by all that: the owner and an admin still see it at offset 0.
    const mine = await head(app, url, alice);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("upload-offset")).toBe("0");
    expect((await head(app, url, app.admin)).status).toBe(200);
    const done = await runUpload(app, alice, PNG, { uploadUrl: url });
    expect(done.error).toBeUndefined();
    expect(done.assetId).toBe(id);
  });

  it("refuses deferred lengths and bad metadata before opening anything", async () => {
    const deferred = await fetch(`${app.url}/v1/tus`, { method: "POST", headers: { ...tusHeaders(alice), "upload-defer-length": "1" } });
    expect(deferred.status).toBe(400);
    expect((await json(deferred)).error.code).toBe("bad_request");
    const tags = await create(app, alice, 10, { filename: "a.txt", tags: "[1,2]" });
    expect(tags.status).toBe(400);
    expect((await json(tags)).error).toMatchObject({ code: "invalid_parameter", parameter: "tags" });
    const tooLarge = await create(app, alice, app.runtime.config.maxUploadBytes + 1, { filename: "big.bin" });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("content-type")).toMatch(/application\/json/);
    expect((await json(tooLarge)).error.code).toBe("payload_too_large");
  });

  it("fails an upload whose bytes are not the declared type, and keeps nothing", async () => {
    const outcome = await runUpload(app, alice, JPEG, { metadata: { filename: "fake.png", filetype: "image/png" }, chunkSize: 300_000 });
    expect(outcome.error).toBeDefined();
    const response = outcome.error!.originalResponse!;
    expect(response.getStatus()).toBe(415);
    expect(JSON.parse(response.getBody()).error).toMatchObject({ code: "type_mismatch" });
    const id = idOf(outcome.url);

    const manifest = await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(alice) });
    if (manifest.status === 200) expect((await json(manifest)).status).toBe("failed");
    else expect(manifest.status).toBe(404);
    // Not served: a failed asset answers 409, a removed one 404.
    expect([404, 409]).toContain((await fetch(`${app.url}/a/${id}`, { headers: bearer(alice) })).status);
    expect(await tusLeftovers(app, id)).toEqual([]);
  });

  it("checks a declared sha256 when the last byte arrives", async () => {
    const outcome = await runUpload(app, alice, PNG, { metadata: { filename: "e.png", filetype: "image/png", sha256: "0".repeat(64) } });
    expect(outcome.error?.originalResponse?.getStatus()).toBe(422);
    expect(JSON.parse(outcome.error!.originalResponse!.getBody()).error.code).toBe("checksum_mismatch");
    expect(await tusLeftovers(app, idOf(outcome.url))).toEqual([]);
  });

  it("terminates an unfinished upload: data removed, asset deleted", async () => {
    const data = randomBytes(3 * MIB);
    let started: Upload | undefined;
    const partial = await new Promise<Outcome>((resolve) => {
      void runUpload(app, alice, data, {
        metadata: { filename: "half.bin" },
        chunkSize: MIB,
        prepare: (upload) => {
          started = upload;
        },
        onChunkComplete(_size, accepted) {
          if (accepted >= MIB) void started!.abort().then(() => resolve({ url: started!.url ?? "", assetId: undefined, assetStatus: undefined, patchOffsets: [] }));
        },
      });
    });
    const id = idOf(partial.url);
    expect((await head(app, partial.url, alice)).headers.get("upload-offset")).not.toBe("0");
    expect(await tusLeftovers(app, id)).not.toEqual([]);

    await Upload.terminate(partial.url, { headers: bearer(alice), retryDelays: null });

    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(alice) })).status).toBe(404);
    expect((await head(app, partial.url, alice)).status).toBe(404);
    expect(await tusLeftovers(app, id)).toEqual([]);
    // The reservation went back: the owner's usage does not count it.
    const stats = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(alice) }));
    expect(stats.quota.reservedBytes).toBe(0);
  });
});

describe(`tus uploads and quotas (${BACKEND})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ ASSETD_QUOTA_DEFAULT_BYTES: "1000", ASSETD_SWEEP_INTERVAL: "0" });
  });
  afterAll(async () => app?.close());

  it("refuses an upload over the owner's quota at creation, with the JSON error", async () => {
    const carol = await app.token("carol");
    const response = await create(app, carol, 2000, { filename: "big.bin", filetype: "application/octet-stream" });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const body = await json(response);
    expect(body.error.code).toBe("quota_exceeded");
    expect(body.error.maxBytes).toBe(1000);
    expect(response.headers.get("location")).toBeNull();

    // Nothing was opened: a small upload still fits the whole quota.
    const small = await runUpload(app, carol, Buffer.from("a small text file\n"), { metadata: { filename: "note.txt", filetype: "text/plain" } });
    expect(small.error).toBeUndefined();
    expect((await settled(app, carol, small.assetId!)).status).toBe("ready");
  });
});
