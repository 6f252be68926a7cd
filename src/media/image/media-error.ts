import { AppError } from "../../domain/errors.js";

/**
 * sharp reports everything as a plain Error with a libvips message. Callers must only see
 * catalogue codes, and the message may contain the blob's file path, so the raw text goes
 * to `cause` (logs) and never into the public message or details.
 */
export function toMediaError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // sharp's own deadline (`timeout({ seconds })`): "timeout: 42% complete".
  if (/^timeout: \d+% complete/i.test(message)) {
    return new AppError("render_timeout", "the image did not render within this service's time limit", {}, { cause: error });
  }
  if (/exceeds pixel limit/i.test(message)) {
    return new AppError("pixel_limit_exceeded", "the image has more pixels than this service decodes", {}, { cause: error });
  }
  if (/too large for the \w+ format/i.test(message)) {
    return new AppError("output_too_large", "the requested output is too large for its format", {}, { cause: error });
  }
  // Our bugs or the store's problems, not the uploader's: they must not be reported as 422.
  if (/not supported for multi-page|Input file is missing|EACCES|ENOENT/i.test(message)) {
    return new AppError("internal", "the image could not be processed", {}, { cause: error });
  }
  return new AppError("undecodable_media", "the image could not be decoded", {}, { cause: error });
}

/** Runs a libvips call and maps whatever it throws. */
export async function mapMediaErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toMediaError(error);
  }
}
