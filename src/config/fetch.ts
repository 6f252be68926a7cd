import { parseFetchAllow, type FetchAllowList } from "../domain/fetch-guard.js";
import { ConfigError, integer, type Read } from "./values.js";

/** Requests made on a caller's behalf (URL imports): the guard's allow-list and the caps. */
export interface FetchConfig {
  /** ASSETD_FETCH_ALLOW: hosts, host:port and CIDR ranges reachable although not public. */
  allow: FetchAllowList;
  /** ASSETD_FETCH_TIMEOUT_MS: the whole fetch, every redirect and the body included. */
  timeoutMs: number;
  /** ASSETD_FETCH_MAX_REDIRECTS. */
  maxRedirects: number;
}

export function fetchConfig(read: Read): FetchConfig {
  let allow: FetchAllowList;
  try {
    allow = parseFetchAllow(read("ASSETD_FETCH_ALLOW"));
  } catch (error) {
    throw new ConfigError("ASSETD_FETCH_ALLOW", (error as Error).message);
  }
  return Object.freeze({
    allow,
    timeoutMs: integer(read, "ASSETD_FETCH_TIMEOUT_MS", 60_000, 100, 3_600_000),
    maxRedirects: integer(read, "ASSETD_FETCH_MAX_REDIRECTS", 5, 0, 20),
  });
}
