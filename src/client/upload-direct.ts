import { contentDigest } from "./digest.js";
import { AssetdError, errorFromResponse } from "./errors.js";
import { backoff, sleep } from "./retry.js";
import { sendBlob } from "./send.js";
import type { UploadContext, UploadJob } from "./upload-context.js";
import type { Manifest } from "./types.js";

/**
 * `POST /v1/assets` with the raw bytes. Not idempotent (a lost response after success
 * would leave a second asset), so only answers that say nothing was kept are retried:
 * 429 and 503.
 */
export async function uploadDirect(ctx: UploadContext, job: UploadJob): Promise<Manifest> {
  const { source, options, signal } = job;
  const url = ctx.http.url("/v1/assets", {
    filename: source.filename,
    public: options.public === undefined ? undefined : String(options.public),
    tags: options.tags && Object.keys(options.tags).length ? JSON.stringify(options.tags) : undefined,
  });
  const headers: Record<string, string> = {
    ...(await ctx.http.authHeaders()),
    "content-type": source.contentType,
    ...(job.sha256 ? { "content-digest": contentDigest(job.sha256) } : {}),
    ...(options.wait ? { prefer: `wait=${Math.round(options.wait)}` } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    job.progress.set(0, 0);
    const response = await sendBlob(ctx.http.fetch, ctx.sendMode, {
      method: "POST", url, headers, body: source.blob, signal, onProgress: (sent) => job.progress.set(0, sent),
    });
    if (response.ok) return (await response.json()) as Manifest;
    const error = await errorFromResponse(response);
    if (!refusedOutright(error) || attempt >= job.retries) throw error;
    await sleep(backoff(attempt, error), signal);
  }
}

const refusedOutright = (error: AssetdError) => error.status === 429 || error.status === 503;
