import { AssetdError, errorFromResponse } from "./errors.js";
import { backoff, childController, isTransient, sleep } from "./retry.js";
import { sendBlob } from "./send.js";
import type { CompletedPart, Manifest, MultipartPlan, PendingUpload, UploadPlan } from "./types.js";
import type { UploadContext, UploadJob } from "./upload-context.js";

/** Refresh URLs up to this long before they expire (a quarter of their life at most) rather than wait for a 403. */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * Direct-to-storage upload: open a session, PUT the bytes to the URLs it hands out (S3
 * presigned or the service's own signed URLs; either way without our bearer token), then
 * complete. The server's threshold decides between one PUT and multipart. Any failure,
 * an abort included, closes the session (best effort) so no reservation or staged bytes
 * linger until the sweep.
 */
export async function uploadViaSession(ctx: UploadContext, job: UploadJob): Promise<Manifest> {
  const { source, options, signal } = job;
  const session = await ctx.uploads.create({
    filename: source.filename ?? "upload",
    contentType: source.contentType,
    size: source.size,
    ...(job.sha256 ? { sha256: job.sha256 } : {}),
    ...(options.tags ? { tags: options.tags } : {}),
    ...(options.public !== undefined ? { public: options.public } : {}),
    ...(options.method === "multipart" ? { multipart: true } : {}),
  }, { signal });
  const assetId = session.asset.id;
  // The owner already holds these bytes: nothing to send.
  if (!session.upload) return session.asset;

  try {
    const urls = new PlanUrls(ctx, assetId, session.upload, signal);
    const parts = session.upload.kind === "single"
      ? (await putSingle(ctx, job, urls), undefined)
      : await putParts(ctx, job, urls, session.upload);
    return await withRetries(job, () => ctx.uploads.complete(assetId, parts, { signal, ...(options.wait ? { wait: options.wait } : {}) }));
  } catch (error) {
    // Not tied to the caller's signal: it may be the reason we are here.
    await ctx.uploads.abort(assetId).catch(() => {});
    throw signal.aborted ? signal.reason : error;
  }
}

/** The current URLs of a session, refreshed through `GET /v1/uploads/:id` once, for everyone. */
class PlanUrls {
  private plan!: UploadPlan;
  private refreshAt = Infinity;
  private refreshing: Promise<PendingUpload> | undefined;
  /** Parts the store already holds (from the last refresh); etag null where it shows none. */
  received = new Map<number, { size: number; etag: string | null }>();

  constructor(private readonly ctx: UploadContext, private readonly assetId: string, plan: UploadPlan, private readonly signal: AbortSignal) {
    this.adopt(plan);
  }

  /** The URL (and headers) for part `n` (0 for a single PUT), refreshed when about to expire. */
  async get(partNumber: number): Promise<{ url: string; headers: Record<string, string>; method: string }> {
    if (Date.now() >= this.refreshAt) await this.refresh();
    return this.lookup(partNumber);
  }

  /**
   * Expiry is the server's clock; only the lifetime left is used here, so a skewed client
   * clock costs at worst the 403 round trip, never a refresh before every part.
   */
  private adopt(plan: UploadPlan): void {
    this.plan = plan;
    const left = Date.parse(plan.expiresAt) - Date.now();
    this.refreshAt = left > 0 ? Date.now() + left - Math.min(EXPIRY_MARGIN_MS, left / 4) : Infinity;
  }

  async refresh(): Promise<void> {
    this.refreshing ??= this.ctx.uploads.get(this.assetId, { signal: this.signal }).finally(() => {
      this.refreshing = undefined;
    });
    const pending = await this.refreshing;
    if (!pending.upload) throw new AssetdError(0, "bad_plan", "the server sent no upload URLs for this session");
    this.adopt(pending.upload);
    for (const part of pending.received) this.received.set(part.partNumber, { size: part.size, etag: part.etag || null });
  }

  private lookup(partNumber: number) {
    const plan = this.plan;
    if (plan.kind === "single") return { url: plan.url, headers: plan.headers, method: plan.method };
    const part = plan.parts.find((p) => p.partNumber === partNumber);
    if (!part) throw new AssetdError(0, "bad_plan", `the upload plan has no URL for part ${partNumber}`);
    return { url: part.url, headers: {}, method: "PUT" };
  }
}

async function putSingle(ctx: UploadContext, job: UploadJob, urls: PlanUrls): Promise<void> {
  await putWithRetries(ctx, job, urls, 0, job.source.blob, job.signal);
}

/** Parts in parallel (`concurrency` at a time); the first hard failure cancels the others. */
async function putParts(ctx: UploadContext, job: UploadJob, urls: PlanUrls, plan: MultipartPlan): Promise<CompletedPart[] | undefined> {
  const { blob, size } = job.source;
  const expected = Math.ceil(size / plan.partSize);
  if (plan.parts.length !== expected) {
    throw new AssetdError(0, "bad_plan", `the plan has ${plan.parts.length} parts; ${size} bytes in parts of ${plan.partSize} need ${expected}`);
  }
  const queue = plan.parts.map((p) => p.partNumber).sort((a, b) => a - b);
  const etags = new Map<number, string | null>();
  const { controller, release } = childController(job.signal);
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const start = (n - 1) * plan.partSize;
      const end = Math.min(start + plan.partSize, size);
      const already = urls.received.get(n);
      if (already && already.size === end - start) {
        etags.set(n, already.etag);
        job.progress.set(n, end - start);
        continue;
      }
      etags.set(n, await putWithRetries(ctx, job, urls, n, blob.slice(start, end), controller.signal));
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(job.concurrency, queue.length) }, async () => {
    try {
      await worker();
    } catch (error) {
      controller.abort(error);
      throw error;
    }
  }));
  release();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw job.signal.aborted ? job.signal.reason : controller.signal.reason ?? failed.reason;
  // Browsers see ETag only when the store's CORS rules expose it; without every ETag the
  // server lists the parts itself.
  const parts = [...etags].map(([partNumber, etag]) => ({ partNumber, etag }));
  return parts.every((p): p is CompletedPart => typeof p.etag === "string") ? parts : undefined;
}

/**
 * One PUT with retries. Transient failures back off; a 403 is what S3 and the service say
 * for an expired URL, so it earns one refresh of the URLs before it counts as final.
 */
async function putWithRetries(ctx: UploadContext, job: UploadJob, urls: PlanUrls, partNumber: number, body: Blob, signal: AbortSignal): Promise<string | null> {
  let refreshed = false;
  for (let attempt = 0; ; ) {
    job.progress.set(partNumber, 0);
    try {
      const target = await urls.get(partNumber);
      const response = await sendBlob(ctx.http.fetch, ctx.sendMode, {
        method: target.method, url: target.url, headers: target.headers, body, signal,
        onProgress: (sent) => job.progress.set(partNumber, sent),
      });
      if (!response.ok) throw await errorFromResponse(response);
      await response.body?.cancel();
      job.progress.set(partNumber, body.size);
      return response.headers.get("etag");
    } catch (error) {
      job.progress.set(partNumber, 0);
      if (signal.aborted) throw signal.reason;
      if (error instanceof AssetdError && error.status === 403 && !refreshed) {
        refreshed = true;
        await urls.refresh();
        continue;
      }
      if (!isTransient(error) || attempt >= job.retries) throw error;
      await sleep(backoff(attempt++, error), signal);
    }
  }
}

/** For idempotent API calls (complete): transient failures are retried. */
async function withRetries<T>(job: UploadJob, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (job.signal.aborted) throw job.signal.reason;
      if (!isTransient(error) || attempt >= job.retries) throw error;
      await sleep(backoff(attempt, error), job.signal);
    }
  }
}

