import { AppError } from "../../domain/errors.js";
import type { ScanVerdict } from "../../ports/scanner.js";

/*
 * clamd's answers to INSTREAM (clamd/session.c, clamd/scanner.c in ClamAV), NUL-terminated
 * because we send z-commands:
 *   stream: OK
 *   stream: Eicar-Test-Signature.UNOFFICIAL FOUND
 *   stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND   (ExtendedDetectionInfo)
 *   INSTREAM size limit exceeded. ERROR
 *   <anything else> ERROR
 */
const FOUND = /^stream: (.+) FOUND$/;
// ExtendedDetectionInfo appends "(md5:size)": the signature name alone is what we record.
const DETECTION_INFO = /\([0-9a-f]{32,64}:\d+\)$/;

/** Turns clamd's INSTREAM reply into a verdict; an ERROR or anything unexpected throws dependency_down. */
export function parseScanReply(reply: string, address: string): ScanVerdict {
  const text = reply.trim();
  if (text === "stream: OK") return { clean: true };
  const found = FOUND.exec(text);
  if (found?.[1]) return { clean: false, signature: found[1].replace(DETECTION_INFO, "") };
  if (text.startsWith("INSTREAM size limit exceeded")) {
    // clamd refuses a stream longer than its StreamMaxLength (default 100M). That setting must
    // be at least the service's upload limit (ASSETD_MAX_UPLOAD_BYTES), else large files can
    // never be scanned: retrying does not help, so `retryable: false` tells callers.
    throw new AppError("dependency_down", `clamd at ${address} refused the stream: ${text} (raise clamd's StreamMaxLength to at least the upload limit)`,
      { dependency: "clamd", reason: "stream_limit", retryable: false });
  }
  if (text.endsWith("ERROR")) {
    throw new AppError("dependency_down", `clamd at ${address} answered: ${text}`, { dependency: "clamd" });
  }
  throw new AppError("dependency_down", `unexpected answer from clamd at ${address}: ${JSON.stringify(text.slice(0, 200))}`, { dependency: "clamd" });
}
