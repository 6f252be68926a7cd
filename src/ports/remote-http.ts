import type { Readable } from "node:stream";

/** One answer of a remote server: its status, headers (lower-case names) and body stream. */
export interface RemoteResponse {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: Readable;
}

/**
 * Requests this service makes on a caller's behalf (URL imports, webhook deliveries). One call is one hop: the
 * caller follows redirects itself, so that every hop passes the same guard. Implementations
 * resolve names themselves and connect only to an address domain/fetch-guard allows
 * (refusing with AppError `url_not_allowed`); redirects are never followed here.
 */
export interface RemoteHttp {
  get(url: URL, options: { signal: AbortSignal; headers?: Record<string, string> }): Promise<RemoteResponse>;
  /** Sends `body` (with its Content-Length); the answer's body is the caller's to read or destroy. */
  post(url: URL, options: { signal: AbortSignal; headers?: Record<string, string>; body: string }): Promise<RemoteResponse>;
}
