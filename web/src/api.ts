/** The console's view of the HTTP API: bearer token from sessionStorage, errors in words. */

const TOKEN_KEY = "assetd.token";

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token.trim());
export const clearToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

export interface Manifest {
  id: string;
  status: string;
  owner?: string;
  filename: string;
  contentType: string | null;
  kind: string;
  size: number | null;
  sha256: string | null;
  public: boolean;
  tags: Record<string, string>;
  meta: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  urls: Record<string, string>;
  failure?: { code: string; message: string };
  streaming?: { hls: string };
}

export interface AssetEvent { from: string | null; to: string; reason: string; at: string }
export interface Variant {
  cacheKey: string; recipe: string; contentType: string; size: number; hits: number; lastAccessAt: string | null; parent: string | null;
}

/** A refusal from the API: status, the catalog code and its human sentence. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The API's `{error: {code, message}}`, or a sentence made from the status. */
export function errorOf(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(status, body.error.code ?? "error", body.error.message);
  } catch { /* not JSON */ }
  return new ApiError(status, "http_" + status, text.trim().slice(0, 200) || `the server answered ${status}`);
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) };
  if (init.body !== undefined && typeof init.body === "string") headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError(0, "network", "the server could not be reached");
  }
  const text = await response.text();
  if (!response.ok) throw errorOf(response.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Exchanges a one-time sign-in code (from a `#login=` link) for a session token. Sent
 * without the stored token: a stale one must not stand in the way of a fresh link.
 */
export async function redeemLoginCode(code: string): Promise<{ token: string; expiresAt: string; sub: string }> {
  let response: Response;
  try {
    response = await fetch("/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }) });
  } catch {
    throw new ApiError(0, "network", "the server could not be reached");
  }
  const text = await response.text();
  if (!response.ok) throw errorOf(response.status, text);
  return JSON.parse(text) as { token: string; expiresAt: string; sub: string };
}

export interface UploadResult { manifest: Manifest; deduplicated: boolean }

/** Multipart `POST /v1/assets` through XMLHttpRequest, for upload progress events. */
export function uploadFile(file: File, onProgress: (sent: number, total: number) => void, signal?: AbortSignal): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/assets");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded, event.total); };
    xhr.onload = () => {
      if (xhr.status === 201) {
        resolve({ manifest: JSON.parse(xhr.responseText) as Manifest, deduplicated: xhr.getResponseHeader("Asset-Deduplicated") === "true" });
      } else reject(errorOf(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload was cut off (network error)"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "the upload was cancelled"));
    signal?.addEventListener("abort", () => xhr.abort());
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A delivery URL for `id` with the given transform parameters (empty values left out). */
export function deliveryUrl(id: string, params: Record<string, string | number | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") query.set(key, String(value));
  const text = query.toString();
  return `/a/${encodeURIComponent(id)}${text ? `?${text}` : ""}`;
}

/**
 * Delivery needs the bearer token for private assets, which an <img src> cannot send: the
 * bytes are fetched with it and shown through an object URL.
 */
export async function fetchBlob(url: string, signal?: AbortSignal): Promise<{ blob: Blob; response: Response }> {
  // A render queued (202, async variants or a transcode): ask again after Retry-After.
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { headers: authHeaders(), ...(signal ? { signal } : {}) });
    if (response.status === 202 && attempt < 30) {
      const wait = Math.min(10, Number(response.headers.get("retry-after") ?? 1) || 1);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    if (!response.ok) throw errorOf(response.status, await response.text());
    return { blob: await response.blob(), response };
  }
}
