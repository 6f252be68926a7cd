import ipaddr from "ipaddr.js";
import { AppError } from "./errors.js";

/**
 * The rules for requests this service makes on a caller's behalf (URL imports, webhook
 * deliveries): which URLs may be fetched and which network addresses may be connected to.
 * Server-side request forgery turns such a fetch into a probe of the private network or a
 * read of the cloud metadata service (169.254.169.254, fd00:ec2::254), so only globally
 * routable unicast addresses are reachable unless the operator allows more through
 * ASSETD_FETCH_ALLOW. Pure: the adapter resolves names and asks here about each address
 * before it connects to exactly that address.
 */

export interface AllowedHost {
  /** Lower-case host name or IP literal (IPv6 without brackets). */
  host: string;
  /** Undefined: any port. */
  port?: number;
}

export interface FetchAllowList {
  hosts: readonly AllowedHost[];
  /** Address ranges that may be connected to whatever name led there. */
  cidrs: ReadonlyArray<readonly [ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

export const EMPTY_ALLOW_LIST: FetchAllowList = { hosts: [], cidrs: [] };

/** The address classes ipaddr.js reports and we refuse are every one but global unicast. */
export interface AddressClass {
  /** True only for globally routable unicast addresses. */
  public: boolean;
  /** ipaddr.js's range name: loopback, private, linkLocal, carrierGradeNat, uniqueLocal, … */
  range: string;
}

/**
 * Classifies an IP address. IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4
 * address it carries; the NAT64, 6to4 and Teredo ranges embed IPv4 addresses of unknown
 * reach and are refused like every other special range. Unparseable text is not public.
 */
export function classifyAddress(address: string): AddressClass {
  if (!ipaddr.isValid(address)) return { public: false, range: "invalid" };
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  return { public: range === "unicast", range };
}

/**
 * Parses ASSETD_FETCH_ALLOW: comma-separated entries, each a host name or IP literal
 * (`files.internal`, `127.0.0.1`), the same with a port (`127.0.0.1:8081`, `[::1]:8081`),
 * or an address range in CIDR notation (`10.20.0.0/16`, `fd12::/48`). Throws on a bad entry.
 */
export function parseFetchAllow(text: string | undefined): FetchAllowList {
  const hosts: AllowedHost[] = [];
  const cidrs: Array<readonly [ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const raw of (text ?? "").split(",")) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.includes("/")) {
      try {
        cidrs.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`"${entry}" is not an address range (CIDR)`);
      }
      continue;
    }
    hosts.push(parseHostEntry(entry));
  }
  return { hosts, cidrs };
}

function parseHostEntry(entry: string): AllowedHost {
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) return withPort(bracketed[1]!, bracketed[2], entry);
  if (ipaddr.IPv6.isValid(entry)) return { host: entry };
  const named = /^([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!named || named[1]!.startsWith(".") || named[1]!.endsWith("-")) throw new Error(`"${entry}" is not a host, host:port or CIDR`);
  return withPort(named[1]!, named[2], entry);
}

function withPort(host: string, port: string | undefined, entry: string): AllowedHost {
  if (port === undefined) return { host };
  const n = Number(port);
  if (n < 1 || n > 65535) throw new Error(`"${entry}" has a port out of range`);
  return { host, port: n };
}

/** The URL as the fetch may use it, or `url_not_allowed` (scheme, credentials) / `invalid_parameter`. */
export function checkFetchUrl(raw: string, parameter = "url"): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("invalid_parameter", `${parameter} is not an absolute URL`, { parameter });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AppError("url_not_allowed", `only http and https URLs may be fetched, not ${url.protocol.replace(/:$/, "")}`, { reason: "scheme" });
  }
  // Credentials in a URL end up in logs and in the Authorization of whatever the URL redirects to.
  if (url.username || url.password) {
    throw new AppError("url_not_allowed", "URLs with credentials are not fetched", { reason: "credentials" });
  }
  return url;
}

/** The URL's host without IPv6 brackets, lower case, and its effective port. */
export function hostAndPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return { host, port };
}

/** True when the allow-list names this host (and this port, if the entry has one). */
export function isHostAllowed(list: FetchAllowList, host: string, port: number): boolean {
  const wanted = host.toLowerCase();
  const normal = ipaddr.isValid(wanted) ? ipaddr.parse(wanted).toString() : wanted;
  return list.hosts.some((h) => {
    const entry = ipaddr.isValid(h.host) ? ipaddr.parse(h.host).toString() : h.host;
    return entry === normal && (h.port === undefined || h.port === port);
  });
}

/**
 * The decision for one connection: `address` is what the name resolved to (or the IP
 * literal itself). Allowed when the host (with its port) is listed, when the address is
 * inside a listed range, or when it is public. Otherwise `url_not_allowed`, naming the class.
 */
export function checkDestination(list: FetchAllowList, host: string, port: number, address: string): void {
  if (isHostAllowed(list, host, port)) return;
  const verdict = classifyAddress(address);
  if (verdict.public) return;
  if (inAllowedRange(list, address)) return;
  throw new AppError("url_not_allowed", `${host} resolves to a ${verdict.range} address, which is not fetched`, {
    reason: "address", range: verdict.range,
  });
}

function inAllowedRange(list: FetchAllowList, address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return list.cidrs.some(([range, bits]) => parsed.kind() === range.kind() && parsed.match(range, bits));
}
