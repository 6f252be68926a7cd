/**
 * Which `Host` headers this service believes when it has no configured public URL and
 * must build absolute URLs (manifests, signed URLs, upload targets) from the request. A
 * forged Host would otherwise put an attacker's origin into URLs that clients follow and
 * caches keep (host-header poisoning); Django's ALLOWED_HOSTS is the model.
 *
 * An entry is `name` (any port) or `name:port`; IPv6 literals in brackets (`[::1]`); a
 * leading dot (`.example.com`) matches the domain and every subdomain.
 */
export interface TrustedHost {
  name: string;
  /** undefined: any port. */
  port: number | undefined;
}

export class TrustedHostError extends Error {
  constructor(text: string, why: string) {
    super(`invalid trusted host "${text}": ${why}; expected name, name:port, [v6] or .domain`);
    this.name = "TrustedHostError";
  }
}

/** Loopback names are always safe to build URLs on: only this machine can be reached by them. */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];
/** Wildcard listen addresses are no name a client sends. */
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** The default list: loopback names and the configured listen host, any port. */
export function defaultTrustedHosts(listenHost: string): TrustedHost[] {
  const listen = listenHost.includes(":") && !listenHost.startsWith("[") ? `[${listenHost}]` : listenHost;
  const names = WILDCARDS.has(listen.toLowerCase()) ? LOOPBACK : [...LOOPBACK, listen];
  return [...new Set(names.map((name) => name.toLowerCase()))].map((name) => ({ name, port: undefined }));
}

/** Parses one comma-separated `ASSETD_TRUSTED_HOSTS` value. */
export function parseTrustedHosts(text: string): TrustedHost[] {
  return text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "").map((entry) => {
    const parsed = splitHost(entry);
    if (!parsed) throw new TrustedHostError(entry, "not a host name");
    if (parsed.port === null) throw new TrustedHostError(entry, "port must be 1-65535");
    return { name: parsed.name, port: parsed.port };
  });
}

/** Whether a request's `Host` header (name and optional port) is on the list. */
export function isTrustedHost(hosts: readonly TrustedHost[], header: string | undefined): boolean {
  const given = header === undefined ? undefined : splitHost(header);
  if (!given || given.port === null) return false;
  return hosts.some((host) => {
    if (host.port !== undefined && host.port !== (given.port ?? undefined)) return false;
    return host.name.startsWith(".") ? given.name === host.name.slice(1) || given.name.endsWith(host.name) : given.name === host.name;
  });
}

/**
 * `name[:port]` lowercased, a trailing dot dropped; port undefined when absent and null
 * when malformed; undefined when the name has characters no host name or address has.
 */
function splitHost(text: string): { name: string; port: number | undefined | null } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d*))?$/i.exec(text.trim());
  if (!match) return undefined;
  const name = match[1]!.toLowerCase().replace(/(?<=[^.])\.$/, "");
  if (match[2] === undefined) return { name, port: undefined };
  const port = Number(match[2]);
  return { name, port: match[2] !== "" && port >= 1 && port <= 65535 ? port : null };
}
