import { segment, type Transport } from "./http.js";
import type { AssetEvent, AssetPage, AssetPatch, Grant, ListQuery, Manifest, SignedUrl, SignedUrlRequest, SimilarQuery, SimilarResult } from "./types.js";

export interface AssetsApi {
  get(id: string, options?: { signal?: AbortSignal }): Promise<Manifest>;
  /** One page, newest first. */
  list(query?: ListQuery, options?: { signal?: AbortSignal }): Promise<AssetPage>;
  /** Every matching asset, following `next` cursors page by page. */
  iterate(query?: Omit<ListQuery, "cursor">, options?: { signal?: AbortSignal }): AsyncIterable<Manifest>;
  patch(id: string, patch: AssetPatch, options?: { signal?: AbortSignal }): Promise<Manifest>;
  /** Soft delete. */
  delete(id: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** The state history, oldest first. */
  events(id: string, options?: { signal?: AbortSignal }): Promise<AssetEvent[]>;
  /** Visible near-duplicates, closest first. */
  similar(id: string, query?: SimilarQuery, options?: { signal?: AbortSignal }): Promise<SimilarResult>;
  /** A delivery URL anyone may load until it expires (needs read permission). */
  signedUrl(id: string, request?: SignedUrlRequest, options?: { signal?: AbortSignal }): Promise<SignedUrl>;
  /** The asset's ACL grants (owners and admins). */
  grants(id: string, options?: { signal?: AbortSignal }): Promise<Grant[]>;
  /** Replaces every grant. */
  setGrants(id: string, grants: readonly Grant[], options?: { signal?: AbortSignal }): Promise<Grant[]>;
  grant(id: string, grant: Grant, options?: { signal?: AbortSignal }): Promise<void>;
  revoke(id: string, grant: Grant, options?: { signal?: AbortSignal }): Promise<void>;
}

export function assetsApi(http: Transport): AssetsApi {
  const list = (query: ListQuery = {}, options: { signal?: AbortSignal } = {}) =>
    http.json<AssetPage>("GET", "/v1/assets", { query: listParams(query), signal: options.signal });

  return {
    get: (id, options = {}) => http.json<Manifest>("GET", `/v1/assets/${segment(id)}`, options),
    list,
    async *iterate(query = {}, options = {}) {
      let cursor: string | undefined;
      do {
        const page = await list({ ...query, ...(cursor ? { cursor } : {}) }, options);
        yield* page.items;
        cursor = page.next ?? undefined;
      } while (cursor);
    },
    patch: (id, patch, options = {}) =>
      http.json<Manifest>("PATCH", `/v1/assets/${segment(id)}`, { json: patch, signal: options.signal }),
    delete: (id, options = {}) => http.json<void>("DELETE", `/v1/assets/${segment(id)}`, options),
    async events(id, options = {}) {
      const body = await http.json<{ items: AssetEvent[] }>("GET", `/v1/assets/${segment(id)}/events`, options);
      return body.items;
    },
    similar: (id, query = {}, options = {}) =>
      http.json<SimilarResult>("GET", `/v1/assets/${segment(id)}/similar`, {
        query: { maxDistance: query.maxDistance, limit: query.limit }, signal: options.signal,
      }),
    signedUrl: (id, request = {}, options = {}) =>
      http.json<SignedUrl>("POST", `/v1/assets/${segment(id)}/signed-url`, { json: request, signal: options.signal }),
    async grants(id, options = {}) {
      return (await http.json<{ grants: Grant[] }>("GET", `/v1/assets/${segment(id)}/acl`, options)).grants;
    },
    async setGrants(id, grants, options = {}) {
      return (await http.json<{ grants: Grant[] }>("PUT", `/v1/assets/${segment(id)}/acl`, { json: { grants }, signal: options.signal })).grants;
    },
    async grant(id, grant, options = {}) {
      await http.json<unknown>("POST", `/v1/assets/${segment(id)}/acl`, { json: grant, signal: options.signal });
    },
    revoke: (id, grant, options = {}) =>
      http.json<void>("DELETE", `/v1/assets/${segment(id)}/acl`, {
        query: { principal: grant.principal, permission: grant.permission }, signal: options.signal,
      }),
  };
}

function listParams(query: ListQuery) {
  const tags = query.tags === undefined ? undefined
    : isTagList(query.tags) ? [...query.tags]
    : Object.entries(query.tags).map(([k, v]) => `${k}:${v}`);
  return {
    status: query.status,
    type: query.type,
    tag: tags,
    owner: query.owner,
    q: query.q,
    createdAfter: time(query.createdAfter),
    createdBefore: time(query.createdBefore),
    limit: query.limit,
    cursor: query.cursor,
  };
}

function isTagList(tags: Record<string, string> | readonly string[]): tags is readonly string[] {
  return Array.isArray(tags);
}

/** The server takes ISO 8601 or unix seconds; numbers here are milliseconds, like Date. */
function time(value: Date | string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  return new Date(value).toISOString();
}
