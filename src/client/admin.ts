import { segment, type Transport } from "./http.js";
import type { AssetKind, Job, JobState, Quota, QuotaList, SweepReport } from "./types.js";

type Options = { signal?: AbortSignal };

/** Operator routes; every call needs an admin token (403 `forbidden` otherwise). */
export interface AdminApi {
  jobs: {
    /** Default state: dead (the dead-letter list). */
    list(query?: { state?: JobState; limit?: number }, options?: Options): Promise<Job[]>;
    retry(jobId: string, options?: Options): Promise<{ id: string; retried: true }>;
  };
  /** Re-runs metadata extraction for one ready asset, all of a type, or all. */
  reprocess(target?: { assetId?: string; type?: AssetKind }, options?: Options): Promise<{ queued: number }>;
  quotas: {
    /** Owners with a quota row (anyone who has stored something or was given a limit). */
    list(options?: Options): Promise<QuotaList>;
    get(owner: string, options?: Options): Promise<Quota>;
    /** `null` returns the owner to the service default. */
    set(owner: string, maxBytes: number | null, options?: Options): Promise<Quota>;
  };
  /** Closes expired upload sessions now. */
  sweep(options?: Options): Promise<SweepReport>;
  /** Refuses the token with this `jti` from now on (401 `token_revoked`). */
  revokeToken(jti: string, options?: Options): Promise<void>;
}

export function adminApi(http: Transport): AdminApi {
  return {
    jobs: {
      async list(query = {}, options = {}) {
        const body = await http.json<{ items: Job[] }>("GET", "/v1/admin/jobs", { query: { ...query }, signal: options.signal });
        return body.items;
      },
      retry: (jobId, options = {}) => http.json("POST", `/v1/admin/jobs/${segment(jobId)}/retry`, options),
    },
    reprocess: (target = {}, options = {}) => http.json("POST", "/v1/admin/reprocess", { json: target, signal: options.signal }),
    quotas: {
      list: (options = {}) => http.json<QuotaList>("GET", "/v1/admin/quotas", options),
      get: (owner, options = {}) => http.json<Quota>("GET", `/v1/admin/quotas/${segment(owner)}`, options),
      set: (owner, maxBytes, options = {}) =>
        http.json<Quota>("PUT", `/v1/admin/quotas/${segment(owner)}`, { json: { maxBytes }, signal: options.signal }),
    },
    sweep: (options = {}) => http.json<SweepReport>("POST", "/v1/admin/sweep", { json: {}, signal: options.signal }),
    async revokeToken(jti, options = {}) {
      await http.json<unknown>("POST", "/v1/admin/tokens/revoke", { json: { jti }, signal: options.signal });
    },
  };
}
