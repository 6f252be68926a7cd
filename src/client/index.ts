/**
 * `assetd/client`: a typed client for the assetd HTTP API, for Node 20+ and browsers
 * (fetch, Blob, WebCrypto; no node: imports). Node file helpers live in `assetd/client/node`.
 */
export { createClient, type AssetdClient } from "./client.js";
export { AssetdError, isAssetdError } from "./errors.js";
export type { ClientOptions, FetchLike, TokenSource } from "./http.js";
export type { NamedBlob, UploadInput } from "./input.js";
export type { Progress } from "./progress.js";
export { DIRECT_BELOW, type Upload, type UploadMethod, type UploadOptions } from "./upload.js";
export type { AssetsApi } from "./assets.js";
export type { UploadsApi } from "./uploads.js";
export type { AdminApi } from "./admin.js";
export { assetUrl, dashUrl, hlsUrl, storyboardUrl, transformQuery, FITS, POSITIONS, type Fit, type Format, type Position, type Storyboard, type Transform, type UrlOptions } from "./url.js";
export { signUrl, type SignOptions } from "./sign.js";
export type * from "./types.js";
