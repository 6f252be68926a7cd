import type { Readable } from "node:stream";

/** What a virus scan found. `signature` is the scanner's name for the detection. */
export type ScanVerdict = { clean: true } | { clean: false; signature: string };

/**
 * A virus scanner (implementation: `createClamdScanner`). The body is streamed, never held
 * in memory, so any size the scanner accepts can be scanned.
 */
export interface Scanner {
  /**
   * Streams the bytes to the scanner and consumes `body` (it is destroyed when the scan
   * stops early). Throws AppError("dependency_down") when the scanner cannot be reached or
   * answers an error (callers retry); an error of the body itself is rethrown unchanged, and
   * an abort rejects with `signal.reason`.
   */
  scan(body: NodeJS.ReadableStream | Readable, signal?: AbortSignal): Promise<ScanVerdict>;
  /** Resolves when the scanner answers; throws AppError("dependency_down") otherwise. For readiness. */
  ping(): Promise<void>;
}
