import type { Caller } from "../domain/access.js";
import { AppError, InvalidParameterError } from "../domain/errors.js";
import { parseTransform, DELIVERY_PARAMS, type Presets } from "../domain/recipe.js";
import { checkSignature, signDashManifest, signedUrlLifetime, signPlaylist, signUrl, type UrlSigningKeys } from "../domain/signed-url.js";
import { signStoryboardVtt } from "../domain/storyboard.js";
import type { Clock } from "../ports/clock.js";
import type { AssetService } from "./assets.js";

export interface SignedUrlServiceDeps {
  keys: UrlSigningKeys;
  /** The configured presets, so a signed `preset=` query is checked against them. */
  presets?: Presets;
  assets: Pick<AssetService, "find">;
  clock: Clock;
}

/** A request that carried a valid signature: read access to exactly its URL until `expiresAt`. */
export interface SignedPass {
  /** Unix seconds. */
  expiresAt: number;
}

/** The longest a response to a signed URL of a private asset may be cached. */
const MAX_PRIVATE_CACHE_SECONDS = 3600;

/**
 * Signed, expiring delivery URLs (DESIGN §10 "Access"): checking them before anything is
 * looked up, making them for callers who may read the asset, and signing the URIs inside
 * playlists served through one.
 */
export function createSignedUrlService(deps: SignedUrlServiceDeps) {
  const { keys, assets, clock } = deps;
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  return {
    /**
     * undefined for an unsigned URL; a pass for a valid one; `403 signature_invalid` or
     * `403 url_expired` otherwise. `path` is the URL's path as requested, `query` its query.
     */
    check(path: string, query: URLSearchParams): SignedPass | undefined {
      const result = checkSignature(path, query, keys, nowSeconds());
      if (result.kind === "unsigned") return undefined;
      if (result.kind === "invalid") throw new AppError("signature_invalid", result.reason);
      if (result.kind === "expired") throw new AppError("url_expired", "this signed URL has expired");
      return { expiresAt: result.expiresAt };
    },

    /** `Cache-Control` for a signed response of a private asset: never beyond the expiry. */
    privateCacheControl(pass: SignedPass): string {
      const left = Math.max(0, Math.min(MAX_PRIVATE_CACHE_SECONDS, pass.expiresAt - nowSeconds()));
      return `private, max-age=${left}`;
    },

    /**
     * `POST /v1/assets/:id/signed-url`: a URL of the original (or of `query`'s variant, or
     * of the HLS master playlist with `hls`, of the DASH manifest with `dash`) that anyone
     * may load until it expires.
     */
    async create(caller: Caller, id: string, request: { query?: string; expiresIn?: number; hls?: boolean; dash?: boolean }, baseUrl: string) {
      const asset = await assets.find(caller, id, { tags: false });
      const query = new URLSearchParams(request.query ?? "");
      for (const name of query.keys()) {
        if (DELIVERY_PARAMS.has(name) && name !== "download") throw new InvalidParameterError("query", `the query may not carry ${name}`);
      }
      // Refuse a query the delivery route would refuse, now rather than on first load.
      const single: Record<string, string> = {};
      for (const [name, value] of query) {
        if (name in single) throw new InvalidParameterError(name, `parameter '${name}' is given more than once`);
        single[name] = value;
      }
      parseTransform(single, deps.presets);
      const expiresAt = nowSeconds() + signedUrlLifetime(request.expiresIn);
      const base = `/a/${encodeURIComponent(asset.id)}`;
      const path = request.hls ? `${base}/hls/master.m3u8` : request.dash ? `${base}/dash/manifest.mpd` : base;
      return { url: `${baseUrl.replace(/\/+$/, "")}${signUrl(path, query, expiresAt, keys)}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
    },

    /** A playlist served through a signed URL, its URIs signed with the same expiry. */
    playlist(text: string, playlistPath: string, pass: SignedPass): string {
      return signPlaylist(text, playlistPath, pass.expiresAt, keys);
    },

    /** A DASH manifest served through a signed URL, its segment URLs signed with the same expiry. */
    dash(text: string, manifestPath: string, pass: SignedPass): string {
      return signDashManifest(text, manifestPath, pass.expiresAt, keys);
    },

    /** A storyboard VTT served through a signed URL, its sprite URIs signed with the same expiry. */
    storyboard(text: string, vttPath: string, pass: SignedPass): string {
      return signStoryboardVtt(text, vttPath, pass.expiresAt, keys);
    },
  };
}

export type SignedUrlService = ReturnType<typeof createSignedUrlService>;
