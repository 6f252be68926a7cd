import { errorFromResponse } from "./errors.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A bearer token, or a function asked before every request (for tokens that rotate). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface ClientOptions {
  /** Where assetd listens, e.g. `https://assets.example.com` (a path prefix is kept). */
  baseUrl: string;
  token?: TokenSource;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
}

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number)[];

export interface CallOptions {
  query?: Record<string, QueryValue>;
  json?: unknown;
  body?: RequestInit["body"];
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The one place requests to the API are made: base URL, auth header, error mapping. */
export interface Transport {
  readonly baseUrl: string;
  readonly fetch: FetchLike;
  /** `Authorization` for the API (never sent to presigned URLs). */
  authHeaders(): Promise<Record<string, string>>;
  url(path: string, query?: Record<string, QueryValue>): string;
  /** Throws AssetdError on a non-2xx answer; resolves the parsed JSON, or undefined for 204. */
  json<T>(method: string, path: string, options?: CallOptions): Promise<T>;
  /** Like `json` but hands back the raw response (for bodies the caller streams). */
  raw(method: string, path: string, options?: CallOptions): Promise<Response>;
}

export function createTransport(options: ClientOptions): Transport {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  // Called through globalThis so browsers do not throw "Illegal invocation".
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const authHeaders = async (): Promise<Record<string, string>> => {
    const token = typeof options.token === "function" ? await options.token() : options.token;
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  const url = (path: string, query?: Record<string, QueryValue>) => `${baseUrl}${path}${queryString(query)}`;

  const raw = async (method: string, path: string, call: CallOptions = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...(await authHeaders()), ...call.headers };
    let body = call.body;
    if (call.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.json);
    }
    const response = await doFetch(url(path, call.query), {
      method, headers, ...(body !== undefined ? { body } : {}), ...(call.signal ? { signal: call.signal } : {}),
    });
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  };

  return {
    baseUrl,
    fetch: doFetch,
    authHeaders,
    url,
    raw,
    async json<T>(method: string, path: string, call?: CallOptions): Promise<T> {
      const response = await raw(method, path, call);
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

/** `?a=1&tag=x&tag=y`; undefined and null values are left out, arrays repeat the key. */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export const segment = (id: string): string => encodeURIComponent(id);
