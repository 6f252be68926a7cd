import { AppError } from "../domain/errors.js";
import { checkFetchUrl } from "../domain/fetch-guard.js";
import { sanitiseFilename } from "../domain/filename.js";
import { declaredType } from "../domain/media-types.js";
import type { RemoteHttp, RemoteResponse } from "../ports/remote-http.js";
import type { AssetRow } from "../ports/repos.js";
import type { IngestService } from "./ingest.js";

export interface ImportDeps {
  http: RemoteHttp;
  ingest: Pick<IngestService, "ingest">;
  /** The upload limit applies to fetched bodies too. */
  maxUploadBytes: number;
  /** The whole fetch (every hop and the body) must finish within this. */
  timeoutMs: number;
  maxRedirects: number;
}

export interface ImportInput {
  owner: string;
  url: string;
  filename?: string | undefined;
  tags: Record<string, string>;
  public: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * URL ingest (DESIGN §10): the remote body goes through the same ingest as an upload —
 * hashed and sniffed while streaming, deduplicated, quota-checked, size-capped, scanned —
 * with the remote Content-Type as the declared type. Redirects are followed here, a
 * bounded number of times, each hop through the guarded client, so a public URL that
 * redirects into the private network is refused like a private URL.
 */
export function createImportService(deps: ImportDeps) {
  async function importUrl(input: ImportInput): Promise<AssetRow> {
    const controller = new AbortController();
    const timeout = new AppError("fetch_timeout", `the fetch did not finish within ${deps.timeoutMs} ms`, { timeoutMs: deps.timeoutMs });
    const timer = setTimeout(() => controller.abort(timeout), deps.timeoutMs);
    let response: RemoteResponse | undefined;
    try {
      let url = checkFetchUrl(input.url);
      for (let hop = 0; ; hop++) {
        response = await deps.http.get(url, { signal: controller.signal });
        if (!REDIRECTS.has(response.status)) break;
        response.body.resume();
        const location = response.headers.location;
        if (!location) throw new AppError("fetch_failed", `${url.host} answered ${response.status} without a Location`, { reason: "status", status: response.status });
        if (hop >= deps.maxRedirects) {
          throw new AppError("fetch_failed", `more than ${deps.maxRedirects} redirects`, { reason: "redirects", limit: deps.maxRedirects });
        }
        url = checkFetchUrl(new URL(location, url).toString());
      }
      if (response.status < 200 || response.status > 299) {
        throw new AppError("fetch_failed", `the remote server answered ${response.status}`, { reason: "status", status: response.status });
      }
      const length = Number(response.headers["content-length"] ?? NaN);
      if (length > deps.maxUploadBytes) {
        throw new AppError("payload_too_large", `the body exceeds the upload limit of ${deps.maxUploadBytes} bytes`, { limit: deps.maxUploadBytes });
      }
      const finalUrl = url;
      const filename = sanitiseFilename(input.filename ?? lastSegment(finalUrl), "download");
      const body = response.body;
      // The time cap also ends a body that trickles: the stream fails with fetch_timeout.
      controller.signal.addEventListener("abort", () => body.destroy(timeout), { once: true });
      return await deps.ingest.ingest({
        body, owner: input.owner, filename,
        declaredType: declaredType(response.headers["content-type"], filename),
        ...(Number.isSafeInteger(length) && length > 0 ? { declaredSize: length } : {}),
        public: input.public, tags: input.tags, signal: controller.signal,
      });
    } catch (error) {
      // Whatever broke once the deadline passed (a destroyed body, an aborted staging) broke because of it.
      if (controller.signal.aborted) throw timeout;
      throw error;
    } finally {
      clearTimeout(timer);
      // A refused or failed body is not read to its end: close the connection.
      response?.body.destroy();
    }
  }

  return { importUrl };
}

export type ImportService = ReturnType<typeof createImportService>;

function lastSegment(url: URL): string | undefined {
  const segment = url.pathname.split("/").filter(Boolean).pop();
  if (!segment) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
