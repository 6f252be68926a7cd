import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { AppError, isAppError } from "../domain/errors.js";
import { checkDestination, hostAndPort, type FetchAllowList } from "../domain/fetch-guard.js";
import type { RemoteHttp, RemoteResponse } from "../ports/remote-http.js";

/**
 * Outbound HTTP behind the fetch guard. Names are resolved here, every resolved address is
 * checked, and the socket connects to exactly the addresses that passed: Node's `lookup`
 * hook is what net.connect uses, so there is no second resolution an attacker's DNS could
 * answer differently (rebinding). IP literals skip the lookup and are checked up front.
 * Proxy variables are not honoured (node:http ignores them), so nothing routes around this.
 */
export function createGuardedHttp(allow: FetchAllowList): RemoteHttp {
  return {
    // Bytes as stored: a compressed transfer would be hashed and stored compressed.
    get: (url, options) => send(allow, "GET", url, { ...options, headers: { "accept-encoding": "identity", ...options.headers } }),
    post: (url, options) => send(allow, "POST", url, {
      ...options, headers: { "content-length": String(Buffer.byteLength(options.body)), ...options.headers },
    }),
  };
}

interface SendOptions {
  signal: AbortSignal;
  headers: Record<string, string>;
  body?: string;
}

function send(allow: FetchAllowList, method: "GET" | "POST", url: URL, options: SendOptions): Promise<RemoteResponse> {
  const { host, port } = hostAndPort(url);
  if (isIP(host)) checkDestination(allow, host, port, host);
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { all: true, family: lookupOptions.family ?? 0 }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 4);
      try {
        // One refused address refuses the name: a record set mixing public and private
        // answers is how rebinding attacks get a second chance.
        for (const a of addresses) checkDestination(allow, host, port, a.address);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, "", 4);
      }
      if (lookupOptions.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 4);
      return callback(null, first.address, first.family);
    });
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise<RemoteResponse>((resolve, reject) => {
    const request = client.request(url, {
      method, lookup, signal: options.signal, agent: false,
      headers: { "user-agent": "assetd", ...options.headers },
    }, (response: IncomingMessage) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      resolve({ status: response.statusCode ?? 0, headers, body: response });
    });
    request.on("error", (error) => {
      // The guard's refusal as it is; an abort is the caller's deadline; anything else: unreachable.
      if (isAppError(error)) reject(error);
      else if (options.signal.aborted) reject(options.signal.reason ?? error);
      else reject(unreachable(url, error));
    });
    request.end(options.body);
  });
}

function unreachable(url: URL, error: Error): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  return new AppError("fetch_failed", `could not fetch from ${url.host}: ${code ?? error.message}`, { reason: "unreachable", ...(code ? { cause: code } : {}) });
}
