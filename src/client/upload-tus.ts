import type { DetailedError, FileReader as TusFileReader, Upload as TusUpload } from "tus-js-client";
import { AssetdError, errorFromResponse } from "./errors.js";
import { sleep } from "./retry.js";
import type { Manifest } from "./types.js";
import type { UploadContext, UploadJob } from "./upload-context.js";

const DEFAULT_CHUNK = 8 * 1024 * 1024;
const SETTLED_POLL_MS = 250;

/**
 * tus 1.0 (`/v1/tus`) through tus-js-client, loaded on first use so the client stays small
 * for callers that never need it. The finishing PATCH answers with `Asset-Id`; the
 * manifest is read from the API afterwards. tus-js-client does its own HTTP (node:http,
 * XMLHttpRequest), so a custom `fetch` given to the client is not used here.
 */
export async function uploadTus(ctx: UploadContext, job: UploadJob): Promise<Manifest> {
  const { source, options, signal } = job;
  signal.throwIfAborted();
  const [{ Upload }, endpoint] = await Promise.all([import("tus-js-client"), tusEndpoint(ctx)]);
  const metadata: Record<string, string> = { filename: source.filename ?? "upload", filetype: source.contentType };
  if (options.public !== undefined) metadata.public = String(options.public);
  if (options.tags && Object.keys(options.tags).length) metadata.tags = JSON.stringify(options.tags);

  const assetId = await new Promise<string>((resolve, reject) => {
    let assetId: string | undefined;
    let upload: TusUpload | undefined;
    // `true` also terminates the upload on the server (tus DELETE: bytes dropped, asset
    // deleted), best effort; settled before rejecting, like the other paths.
    const onAbort = () => {
      void (upload?.abort(true) ?? Promise.resolve()).catch(() => {}).then(() => reject(signal.reason));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const settle = (fn: () => void) => {
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    upload = new Upload(source.blob, {
      endpoint,
      uploadSize: source.size,
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK,
      metadata,
      fileReader: blobReader,
      storeFingerprintForResuming: false,
      retryDelays: Array.from({ length: job.retries }, (_, i) => Math.min(10_000, 500 * 2 ** i)),
      onBeforeRequest: async (request) => {
        for (const [name, value] of Object.entries(await ctx.http.authHeaders())) request.setHeader(name, value);
      },
      onAfterResponse: (_request, response) => {
        assetId = response.getHeader("Asset-Id") ?? assetId;
      },
      onProgress: (sent) => job.progress.set(0, sent),
      onSuccess: () => settle(() => {
        // The tus upload id is the asset id: the upload URL names it when no answer carried
        // Asset-Id (e.g. the header is not exposed to a browser).
        const id = assetId ?? upload?.url?.split("/").pop();
        if (id) resolve(decodeURIComponent(id));
        else reject(new AssetdError(0, "missing_asset_id", "the tus upload finished without naming its asset"));
      }),
      onError: (error) => settle(() => void tusError(error).then(reject, reject)),
    });
    upload.start();
  });

  let manifest = await ctx.assets.get(assetId, { signal });
  // tus has no place for a declared digest: check it here, and drop an asset that differs.
  if (job.sha256 && manifest.sha256 !== job.sha256) {
    await ctx.assets.delete(assetId).catch(() => {});
    throw new AssetdError(422, "checksum_mismatch", `the stored bytes hash to ${manifest.sha256}, not ${job.sha256}`, { sha256: manifest.sha256 });
  }
  // Prefer: wait has no request to ride on here: poll instead, for at most `wait` seconds.
  const deadline = Date.now() + (options.wait ?? 0) * 1000;
  while (isSettling(manifest) && Date.now() < deadline) {
    await sleep(SETTLED_POLL_MS, signal);
    manifest = await ctx.assets.get(assetId, { signal });
  }
  return manifest;
}

const isSettling = (m: Manifest) => m.status === "pending" || m.status === "uploaded" || m.status === "verified";

async function tusEndpoint(ctx: UploadContext): Promise<string> {
  const path = await ctx.capabilities().then((c) => c.tus.endpoint, () => "/v1/tus");
  return /^https?:\/\//.test(path) ? path : `${ctx.http.baseUrl}${path}`;
}

/**
 * Reads chunks by slicing the Blob, so a file-backed Blob (`fs.openAsBlob`) is read one
 * chunk at a time in Node, where tus-js-client itself only takes Buffers and streams. The
 * `size` property is how tus-js-client's Node HTTP stack learns the Content-Length.
 */
const blobReader: TusFileReader = {
  async openFile(input: Blob) {
    return {
      size: input.size,
      async slice(start: number, end: number) {
        const value = new Uint8Array(await input.slice(start, end).arrayBuffer());
        return { value: Object.assign(value, { size: value.byteLength }), done: end >= input.size };
      },
      close() {},
    };
  },
};

/** tus-js-client's DetailedError carries our JSON error body: surface it as AssetdError. */
async function tusError(error: Error): Promise<Error> {
  const response = (error as Partial<DetailedError>).originalResponse;
  if (!response) return error;
  const status = response.getStatus();
  if (status < 400 || status > 599) return error;
  const headers = new Headers();
  const retryAfter = response.getHeader("Retry-After");
  if (retryAfter) headers.set("retry-after", retryAfter);
  return errorFromResponse(new Response(response.getBody(), { status, headers }));
}
