import { createUploadCompletion, type UploadCompletionDeps } from "./upload-complete.js";
import { createUploadSessions, type UploadSessionDeps } from "./upload-sessions.js";

export type UploadServiceDeps = UploadSessionDeps & UploadCompletionDeps;

/**
 * Uploads that do not stream through `POST /v1/assets`, as one use case: sessions (open,
 * describe, abort, the expiry sweep; services/upload-sessions.ts) and the bytes arriving
 * and being completed (services/upload-complete.ts), over the upload transport the
 * composition root picked with the store.
 */
export function createUploadService(deps: UploadServiceDeps) {
  return { ...createUploadSessions(deps), ...createUploadCompletion(deps) };
}

export type UploadService = ReturnType<typeof createUploadService>;
