import type { FetchLike } from "./http.js";

/**
 * Sends a Blob as a request body and reports how much of it went out. fetch has no upload
 * progress, so each platform gets what works there:
 * - Node (undici): the Blob's stream wrapped in one that counts bytes as fetch pulls them
 *   (`duplex: "half"`, and an explicit Content-Length so S3 does not see a chunked body);
 * - browsers: XMLHttpRequest, whose `upload.onprogress` is the only progress they offer
 *   (streaming request bodies need HTTP/2 in Chromium and are missing elsewhere);
 * - a caller-supplied fetch in a browser: the plain Blob, progress reported at the end.
 */
export type SendMode = "stream" | "xhr" | "plain";

export interface SendRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Blob;
  signal: AbortSignal;
  /** Bytes of this body sent so far (absolute, not a delta). */
  onProgress?: (sent: number) => void;
}

export function detectSendMode(customFetch: boolean): SendMode {
  const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
  if (versions?.node) return "stream";
  if (!customFetch && typeof (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest === "function") return "xhr";
  return "plain";
}

export async function sendBlob(fetch: FetchLike, mode: SendMode, request: SendRequest): Promise<Response> {
  const { onProgress } = request;
  if (!onProgress || mode === "plain") {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal: request.signal });
    if (response.ok) onProgress?.(request.body.size);
    return response;
  }
  if (mode === "xhr") return sendWithXhr(request, onProgress);
  const init: RequestInit & { duplex: "half" } = {
    method: request.method,
    headers: { ...request.headers, "content-length": String(request.body.size) },
    body: countingStream(request.body, onProgress),
    duplex: "half",
    signal: request.signal,
  };
  return fetch(request.url, init);
}

function countingStream(blob: Blob, onProgress: (sent: number) => void): ReadableStream<Uint8Array> {
  const reader = blob.stream().getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      sent += value.byteLength;
      controller.enqueue(value);
      onProgress(sent);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** The part of XMLHttpRequest used here (the DOM types are not in this build's lib). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getAllResponseHeaders(): string;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly statusText: string;
  readonly response: unknown;
  responseType: string;
  upload: { onprogress: ((event: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

function sendWithXhr(request: SendRequest, onProgress: (sent: number) => void): Promise<Response> {
  const XhrClass = (globalThis as unknown as { XMLHttpRequest: new () => Xhr }).XMLHttpRequest;
  return new Promise((resolve, reject) => {
    const { signal } = request;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const xhr = new XhrClass();
    const onAbort = () => xhr.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const done = () => signal.removeEventListener("abort", onAbort);
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    xhr.responseType = "arraybuffer";
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      done();
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const nullBody = xhr.status === 204 || xhr.status === 304;
      resolve(new Response(nullBody ? null : (xhr.response as ArrayBuffer), { status: xhr.status, statusText: xhr.statusText, headers }));
    };
    xhr.onerror = () => {
      done();
      reject(new TypeError(`network error sending ${request.method} ${request.url}`));
    };
    xhr.onabort = () => {
      done();
      reject(signal.reason ?? new DOMException("The upload was aborted", "AbortError"));
    };
    xhr.send(request.body);
  });
}
