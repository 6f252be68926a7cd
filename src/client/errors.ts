/**
 * Every failure the server answers becomes an `AssetdError` carrying its stable `code`
 * (the server's `{"error":{"code","message",...details}}`), the HTTP status and the extra
 * fields as `details`. Transport failures (DNS, reset connections) stay the platform's
 * own errors; an abort rejects with the signal's reason.
 */
export class AssetdError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** Seconds, from `Retry-After`, when the server sent one. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}, retryAfter?: number) {
    super(message);
    this.name = "AssetdError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export const isAssetdError = (error: unknown): error is AssetdError => error instanceof AssetdError;

/**
 * Reads a failed response into an AssetdError. Besides our JSON errors it understands S3's
 * XML (`<Code>`, `<Message>`), which presigned URLs answer with, and falls back to the
 * status line for anything else.
 */
export async function errorFromResponse(response: Response): Promise<AssetdError> {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } & Record<string, unknown> };
    if (body.error && typeof body.error.code === "string") {
      const { code, message, ...details } = body.error;
      return new AssetdError(response.status, code, typeof message === "string" ? message : code, details, retryAfter);
    }
  } catch {
    // not JSON: try XML, then the status line
  }
  const xmlCode = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  if (xmlCode) {
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? xmlCode;
    return new AssetdError(response.status, xmlCode, message, { source: "store" }, retryAfter);
  }
  const message = `${response.status} ${response.statusText || "error"}${text ? `: ${text.slice(0, 200)}` : ""}`;
  return new AssetdError(response.status, `http_${response.status}`, message, {}, retryAfter);
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
