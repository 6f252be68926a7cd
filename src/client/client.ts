import { adminApi, type AdminApi } from "./admin.js";
import { assetsApi, type AssetsApi } from "./assets.js";
import { createTransport, type ClientOptions } from "./http.js";
import { detectSendMode } from "./send.js";
import type { Capabilities, ImportRequest, Manifest, Stats } from "./types.js";
import { createUpload, type Upload } from "./upload.js";
import { uploadsApi, type UploadsApi } from "./uploads.js";
import { assetUrl, dashUrl, hlsUrl, storyboardUrl, type Storyboard, type Transform, type UrlOptions } from "./url.js";

export interface AssetdClient {
  readonly baseUrl: string;
  /** Uploads a Blob, File, buffer or `fileInput()`, picking the transfer by size; resolves the manifest. */
  upload: Upload;
  /** Has the server fetch a file from an http(s) URL into a new asset (`POST /v1/imports`); resolves the manifest. */
  importUrl(request: ImportRequest, options?: { signal?: AbortSignal }): Promise<Manifest>;
  assets: AssetsApi;
  uploads: UploadsApi;
  admin: AdminApi;
  /** Limits and upload settings of the server; fetched once per client. */
  capabilities(options?: { refresh?: boolean }): Promise<Capabilities>;
  stats(options?: { signal?: AbortSignal }): Promise<Stats>;
  /** Delivery URL of the original, or of a variant when `transform` is given. */
  url(id: string, transform?: Transform, options?: UrlOptions): string;
  hlsUrl(id: string): string;
  /** The DASH manifest of a video (the same ladder as its HLS master). */
  dashUrl(id: string): string;
  /** A video's storyboard: the WebVTT cues (default) or the sprite they point into. */
  storyboardUrl(id: string, kind?: "jpg" | "vtt", storyboard?: Storyboard): string;
}

export function createClient(options: ClientOptions): AssetdClient {
  const http = createTransport(options);
  const assets = assetsApi(http);
  const uploads = uploadsApi(http);
  let capabilities: Promise<Capabilities> | undefined;
  const getCapabilities = ({ refresh = false } = {}) => {
    if (refresh || !capabilities) {
      const pending = http.json<Capabilities>("GET", "/v1/capabilities");
      // A failed fetch is not cached: the next call asks again.
      pending.catch(() => {
        if (capabilities === pending) capabilities = undefined;
      });
      capabilities = pending;
    }
    return capabilities;
  };
  return {
    baseUrl: http.baseUrl,
    upload: createUpload({ http, assets, uploads, capabilities: getCapabilities, sendMode: detectSendMode(options.fetch !== undefined) }),
    importUrl: (request, call = {}) => http.json<Manifest>("POST", "/v1/imports", { json: request, signal: call.signal }),
    assets,
    uploads,
    admin: adminApi(http),
    capabilities: getCapabilities,
    stats: (call = {}) => http.json<Stats>("GET", "/v1/stats", call),
    url: (id, transform, urlOptions) => assetUrl(http.baseUrl, id, transform, urlOptions),
    hlsUrl: (id) => hlsUrl(http.baseUrl, id),
    dashUrl: (id) => dashUrl(http.baseUrl, id),
    storyboardUrl: (id, kind, storyboard) => storyboardUrl(http.baseUrl, id, kind, storyboard),
  };
}
