/**
 * Short-lived URLs at which the store itself serves an object (S3 presigned GETs), so large
 * downloads skip the API tier. The response's Content-Type and Content-Disposition are
 * signed into the URL: the store answers with exactly those. Only stores that can sign
 * requests provide this port.
 */
export interface DownloadLinks {
  link(key: string, response: { contentType: string; disposition?: string }, expiresInSeconds: number): Promise<string>;
}
