import { createClient, isAssetdError, type AssetdClient } from "../client/index.js";

/**
 * The commands that talk to a running assetd do it through `assetd/client`, like any other
 * client: ASSETD_URL (default http://localhost:8080) and ASSETD_TOKEN.
 */
export interface Remote {
  client: AssetdClient;
  /** `Authorization` for the few requests made outside the client (streamed downloads). */
  headers: Record<string, string>;
}

export function remote(): Remote {
  const baseUrl = process.env.ASSETD_URL || "http://localhost:8080";
  const token = process.env.ASSETD_TOKEN || undefined;
  return {
    client: createClient({ baseUrl, ...(token ? { token } : {}) }),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  };
}

/**
 * Wraps a command's action so what it throws reads well after index.ts's `assetd: ` prefix
 * (which also sets exit code 1): the server's answer as `<status> <code>: <message>`, and
 * a network failure with where we tried to go rather than undici's bare "fetch failed".
 */
export function remoteAction<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (error) {
      throw describeError(error);
    }
  };
}

/** Connection errors that mean the server was never reached (as opposed to lost mid-request). */
export const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"]);

/** The error as a user should read it (the server's answer, or where we could not connect). */
export function describeError(error: unknown): unknown {
  if (isAssetdError(error)) return new Error(`${error.status} ${error.code}: ${error.message}`, { cause: error });
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    const reason = cause?.code ?? cause?.message ?? error.message;
    const base = process.env.ASSETD_URL || "http://localhost:8080";
    return new Error(UNREACHABLE.has(reason) ? `cannot reach ${base}: ${reason}` : `the connection to ${base} failed: ${reason}`, { cause: error });
  }
  return error;
}
