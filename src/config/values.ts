import { isIP } from "node:net";
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseClamdAddress, type ClamdAddress } from "../domain/clamd-address.js";
import { DEFAULT_PRESETS, parsePresets, type Presets } from "../domain/recipe.js";
import { parseS3Url, type StorageLocation } from "../domain/storage-url.js";
import { defaultTrustedHosts, parseTrustedHosts, type TrustedHost } from "../domain/trusted-hosts.js";

/** How each kind of setting is read and checked; a bad value is a ConfigError naming the variable. */

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export type Read = (name: string) => string | undefined;

export function integer(read: Read, name: string, fallback: number, min: number, max: number): number {
  const text = read(name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(name, `expected a whole number, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `expected a number from ${min} to ${max}, got ${value}`);
  return value;
}

/** A TCP port, or undefined when the variable is `0` or `off` (the listener is not started). */
export function optionalPort(read: Read, name: string, fallback: number): number | undefined {
  const text = read(name);
  if (text !== undefined && (text.toLowerCase() === "off" || text === "0")) return undefined;
  return integer(read, name, fallback, 1, 65535);
}

export function decimal(read: Read, name: string, fallback: number, min: number, max: number): number {
  const text = read(name);
  if (text === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new ConfigError(name, `expected a number such as 60 or 0.5, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `expected a number from ${min} to ${max}, got ${value}`);
  return value;
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** `1048576`, `100MB`, `5GiB` in bytes; undefined when `text` is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : undefined;
}

export function bytes(read: Read, name: string, fallback: number, min = 1): number {
  const text = read(name);
  if (text === undefined) return fallback;
  const value = parseByteSize(text);
  if (value === undefined) throw new ConfigError(name, `expected a size such as 104857600, 100MB or 5GiB, got '${text}'`);
  if (value < min || !Number.isSafeInteger(value)) throw new ConfigError(name, `size out of range: '${text}'`);
  return value;
}

/** Inline JSON (`{"card": "w=400&h=300"}`) or the path of a JSON file holding it. */
export function presets(text: string | undefined, cwd: string): Presets {
  if (text === undefined || text.trim() === "") return DEFAULT_PRESETS;
  let json = text.trim();
  if (!json.startsWith("{")) {
    try {
      json = readFileSync(resolve(cwd, json), "utf8");
    } catch (error) {
      throw new ConfigError("ASSETD_PRESETS", `neither JSON nor a readable file: ${(error as Error).message}`);
    }
  }
  try {
    return parsePresets(JSON.parse(json));
  } catch (error) {
    throw new ConfigError("ASSETD_PRESETS", (error as Error).message);
  }
}

/** Comma-separated keys, each at least 16 characters (the first signs, all verify). */
export function signingKeys(text: string | undefined): string[] {
  const keys = (text ?? "").split(",").map((key) => key.trim()).filter((key) => key !== "");
  for (const key of keys) {
    if (key.length < 16) throw new ConfigError("ASSETD_URL_SIGNING_KEY", "each key needs at least 16 characters");
  }
  return keys;
}

export function boolean(read: Read, name: string, fallback: boolean): boolean {
  const text = read(name)?.toLowerCase();
  if (text === undefined) return fallback;
  if (["1", "true", "yes", "on"].includes(text)) return true;
  if (["0", "false", "no", "off"].includes(text)) return false;
  throw new ConfigError(name, `expected true or false, got '${text}'`);
}

export function oneOf<T extends string>(read: Read, name: string, allowed: readonly T[], fallback: T): T {
  const text = read(name)?.toLowerCase();
  if (text === undefined) return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got '${text}'`);
}

export function pattern(read: Read, name: string, re: RegExp, fallback: string): string {
  const text = read(name);
  if (text === undefined) return fallback;
  if (!re.test(text)) throw new ConfigError(name, `expected letters, digits, '.', '_' or '-' (at most 64), got '${text}'`);
  return text;
}

export function list(text: string | undefined): string[] | undefined {
  return text?.split(",").map((s) => s.trim()).filter(Boolean);
}

export function url(read: Read, name: string): string | undefined {
  const text = read(name);
  if (text === undefined) return undefined;
  try {
    const parsed = new URL(text);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)");
    return text.replace(/\/+$/, "");
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got '${text}'`);
  }
}

export function corsOrigins(text: string | undefined): string[] {
  const origins = list(text) ?? ["*"];
  for (const origin of origins) {
    if (origin === "*") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError("ASSETD_CORS_ORIGINS", `expected '*' or origins such as https://app.example.com, got '${origin}'`);
    }
  }
  return origins;
}

export function secret(text: string | undefined): string | undefined {
  if (text !== undefined && text.length < 32) {
    throw new ConfigError("ASSETD_JWT_SECRET", "must be at least 32 characters (HS256 needs a 256-bit key)");
  }
  return text;
}

export function databaseUrl(text: string | undefined, dataDir: string): string {
  if (text === undefined) return `sqlite:${resolve(dataDir, "assetd.db")}`;
  if (text.startsWith("postgres://") || text.startsWith("postgresql://")) return text;
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length).replace(/^\/\//, "");
    return `sqlite:${isAbsolute(path) ? path : resolve(dataDir, path)}`;
  }
  throw new ConfigError("ASSETD_DATABASE_URL", `expected sqlite:<file> or postgres://..., got '${text}'`);
}

export function trustedHosts(text: string | undefined, listenHost: string): TrustedHost[] {
  try {
    // Added to the loopback names and the listen host, which stay trusted: the CLI and
    // health checks on the machine itself call the API by them.
    return [...defaultTrustedHosts(listenHost), ...parseTrustedHosts(text ?? "")];
  } catch (error) {
    throw new ConfigError("ASSETD_TRUSTED_HOSTS", (error as Error).message);
  }
}

export function clamdAddress(text: string | undefined): ClamdAddress | undefined {
  if (text === undefined) return undefined;
  try {
    return Object.freeze(parseClamdAddress(text));
  } catch (error) {
    throw new ConfigError("ASSETD_CLAMD", (error as Error).message);
  }
}

export function redisUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(text)) throw new ConfigError("ASSETD_REDIS_URL", `expected redis://host:port, got '${text}'`);
  return text;
}

/** `store` needs a store that can presign (S3): refused at start-up otherwise. */
export function deliveryRedirect(read: Read, location: StorageLocation): "off" | "store" {
  const mode = oneOf(read, "ASSETD_DELIVERY_REDIRECT", ["off", "store"], "off");
  if (mode === "store" && location.kind !== "s3") {
    throw new ConfigError("ASSETD_DELIVERY_REDIRECT", "store needs an S3 store (ASSETD_STORAGE=s3://...): the filesystem store cannot presign downloads");
  }
  return mode;
}

export function storageLocation(text: string | undefined, dataDir: string, name = "ASSETD_STORAGE"): { url: string; location: StorageLocation } {
  if (text === undefined) return fileLocation(`file://${resolve(dataDir, "store")}`);
  if (text.startsWith("file://")) {
    const path = text.slice("file://".length);
    if (!path) throw new ConfigError(name, "file:// needs a directory");
    return fileLocation(`file://${isAbsolute(path) ? path : resolve(dataDir, path)}`);
  }
  if (text.startsWith("s3://")) {
    try {
      return { url: text, location: Object.freeze({ kind: "s3", ...parseS3Url(text) }) };
    } catch (error) {
      // The URL may carry a secret key: name the problem, never echo the value.
      throw new ConfigError(name, (error as Error).message);
    }
  }
  throw new ConfigError(name, "expected file://<dir> or s3://bucket[/prefix]?endpoint=...&region=...");
}

export function fileLocation(url: string): { url: string; location: StorageLocation } {
  return { url, location: Object.freeze({ kind: "fs", root: decodeURIComponent(new URL(url).pathname) }) };
}

/** Named address ranges proxy-addr (Fastify's trustProxy) understands. */
const PROXY_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * ASSETD_TRUST_PROXY: which peers may tell us the client's address, scheme and host
 * (X-Forwarded-For/-Proto/-Host). Unset: nobody. A number: that many proxy hops in front.
 * Else a list of addresses, CIDRs or loopback/linklocal/uniquelocal. "Everyone" is not
 * offered: it lets any client pick its own address for rate limits.
 */
export function trustProxy(text: string | undefined): false | number | string[] {
  if (text === undefined || text === "" || text === "false") return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 10) throw new ConfigError("ASSETD_TRUST_PROXY", `expected 1 to 10 proxy hops, got ${text}`);
    return hops;
  }
  const entries = list(text) ?? [];
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const family = isIP(address ?? "");
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_RANGES.has(entry) && (family === 0 || !validBits || extra !== undefined)) {
      throw new ConfigError("ASSETD_TRUST_PROXY", `expected a number of hops, or addresses, CIDRs, loopback, linklocal or uniquelocal; got '${entry}'`);
    }
  }
  return entries;
}

/**
 * Tracing is off unless asked for: `OTEL_TRACES_EXPORTER=otlp`, or an OTLP endpoint set
 * while `OTEL_TRACES_EXPORTER` is unset. `OTEL_SDK_DISABLED=true` wins over both. The
 * exporter reads the other OTEL_* variables itself.
 */
export function tracesExporter(read: Read): "otlp" | "none" {
  if (read("OTEL_SDK_DISABLED")?.trim().toLowerCase() === "true") return "none";
  const exporter = read("OTEL_TRACES_EXPORTER")?.trim().toLowerCase();
  if (exporter === undefined || exporter === "") {
    return read("OTEL_EXPORTER_OTLP_ENDPOINT") || read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ? "otlp" : "none";
  }
  if (exporter === "otlp" || exporter === "none") return exporter;
  throw new ConfigError("OTEL_TRACES_EXPORTER", `expected otlp or none, got '${exporter}'`);
}
