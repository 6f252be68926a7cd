import { variantKey } from "../domain/content-address.js";
import { AppError, ERROR_STATUS, isAppError, type ErrorCode } from "../domain/errors.js";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";

interface FailureRecord {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
  at: number;
}

/**
 * Whether retrying a render could change its outcome. A 4xx verdict on the content or the
 * recipe (undecodable, over the pixel limit, over the render deadline, unsupported) comes
 * back every time; a busy process, a store or a tool that is down (5xx) may not.
 */
export function isPermanentRenderFailure(error: unknown): error is AppError {
  return isAppError(error) && error.status >= 400 && error.status < 500 && error.code !== "rate_limited";
}

/**
 * What an asynchronous render (ASSETD_ASYNC_VARIANTS, eager variants) could not make, by
 * cache key: a small JSON object next to where the variant would be stored
 * (`variants/ab/cd/<cacheKey>.failed`), so every process of a deployment sees it. A
 * request for that variant then answers the render's own error instead of 202 forever.
 * Only permanent failures are kept; the cache key includes the processor version, so an
 * upgrade that might render the content asks again. gc removes markers older than its
 * grace period (ASSETD_GC_GRACE), so a failure is remembered that long at most.
 */
export function createRenderFailures(store: BlobStore, clock: Clock) {
  const keyOf = (cacheKey: string) => `${variantKey(cacheKey)}.failed`;

  return {
    async record(cacheKey: string, error: AppError): Promise<void> {
      const record: FailureRecord = { code: error.code, message: error.message, details: error.details, at: clock.now() };
      await store.put(keyOf(cacheKey), Buffer.from(JSON.stringify(record)));
    },

    /** The error a render of this variant failed with; undefined when none is known. */
    async find(cacheKey: string): Promise<AppError | undefined> {
      let text: string;
      try {
        text = (await store.read(keyOf(cacheKey))).toString("utf8");
      } catch (error) {
        if (error instanceof BlobNotFoundError) return undefined;
        throw error;
      }
      const record = JSON.parse(text) as FailureRecord;
      const code: ErrorCode = Object.hasOwn(ERROR_STATUS, record.code) ? record.code : "undecodable_media";
      return new AppError(code, record.message, record.details ?? {});
    },
  };
}

export type RenderFailures = ReturnType<typeof createRenderFailures>;
