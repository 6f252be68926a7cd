/** What `GET /v1/capabilities` tells clients about the upload paths; built once at start-up. */
export interface Capabilities {
  maxUploadBytes: number;
  uploads: {
    /** "store": clients send bytes to presigned store URLs; "service": to this service's own signed URLs. */
    direct: "store" | "service";
    multipartThreshold: number;
    partSize: number;
    urlTtlSeconds: number;
    sessionTtlSeconds: number;
  };
  tus: { endpoint: string; version: string; maxSize: number };
  allowedTypes: readonly string[];
}
