import { isAbsolute } from "node:path";

/** Where clamd listens: a unix socket path or a TCP host and port. */
export type ClamdAddress = { path: string } | { host: string; port: number };

/** A malformed `ASSETD_CLAMD` value. */
export class ClamdAddressError extends Error {
  constructor(text: string, why: string) {
    super(`invalid clamd address "${text}": ${why}; expected host:port, /path/to/clamd.ctl or unix:/path`);
    this.name = "ClamdAddressError";
  }
}

/**
 * Parses the `ASSETD_CLAMD` setting: `host:port` (`[::1]:3310` for IPv6 literals), an
 * absolute unix socket path (`/run/clamav/clamd.ctl`, Debian's default), or `unix:<path>`.
 */
export function parseClamdAddress(text: string): ClamdAddress {
  const value = text.trim();
  if (value.startsWith("unix:")) {
    const path = value.slice("unix:".length);
    if (path === "") throw new ClamdAddressError(text, "empty socket path");
    return { path };
  }
  if (isAbsolute(value)) return { path: value };

  const colon = value.lastIndexOf(":");
  if (colon <= 0) throw new ClamdAddressError(text, "no port");
  let host = value.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  else if (host.includes(":")) throw new ClamdAddressError(text, "put an IPv6 address in brackets");
  const portText = value.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new ClamdAddressError(text, "port must be 1-65535");
  if (host === "") throw new ClamdAddressError(text, "empty host");
  return { host, port };
}

export const describeClamdAddress = (address: ClamdAddress): string =>
  "path" in address ? `unix:${address.path}` : `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
