import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";

import { isMissingUpload } from "./errors.js";
import { MAX_PARTS, MAX_SINGLE_OBJECT, MIB } from "./limits.js";

export interface CopyRequest {
  bucket: string;
  /** Full object keys (store prefix included). */
  from: string;
  to: string;
  /** Size of the source object in bytes. */
  size: number;
  /**
   * The source's ETag when it was measured: the copy fails (412 PreconditionFailed) if the
   * source has been replaced since, so the bytes copied are the bytes that were checked.
   */
  ifMatch?: string;
  /** Above this size the copy is made part by part. Default: 5 GiB, the CopyObject limit. */
  singleCopyLimit?: number;
  /** Parts of a multipart copy, at least 5 MiB. Default: 512 MiB, or more to fit MAX_PARTS. */
  partSize?: number;
  /** The S3 storage class of the copy (e.g. STANDARD_IA); the service's default when absent. */
  storageClass?: string;
}

/** Ranges copied at once in a multipart copy: the copying happens server-side. */
const COPY_CONCURRENCY = 4;

/** `bucket/key` for x-amz-copy-source: URL-encoded, with the slashes between segments kept. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Server-side copy of `from` to `to`. CopyObject writes at most 5 GiB (on AWS and in Swift,
 * whose max_file_size is the same), so larger objects are copied as a multipart upload of
 * UploadPartCopy ranges. A failed multipart copy is aborted, leaving no parts behind.
 */
export async function copyObject(client: S3Client, request: CopyRequest): Promise<void> {
  const { bucket, from, to, size, ifMatch } = request;
  const StorageClass = request.storageClass as StorageClass | undefined;
  if (size <= (request.singleCopyLimit ?? MAX_SINGLE_OBJECT)) {
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource(bucket, from), CopySourceIfMatch: ifMatch, StorageClass }));
    return;
  }
  const partSize = Math.max(request.partSize ?? 512 * MIB, Math.ceil(size / MAX_PARTS));
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to, StorageClass }));
  if (!UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
  try {
    const ranges = partRanges(size, partSize);
    const parts: CompletedPart[] = new Array<CompletedPart>(ranges.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < ranges.length && !failed) {
        const index = next++;
        const [start, end] = ranges[index]!;
        const { CopyPartResult } = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: to,
            UploadId,
            PartNumber: index + 1,
            CopySource: copySource(bucket, from),
            CopySourceIfMatch: ifMatch,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        if (!CopyPartResult?.ETag) throw new Error(`UploadPartCopy returned no ETag for part ${index + 1}`);
        parts[index] = { PartNumber: index + 1, ETag: CopyPartResult.ETag };
      }
    };
    // Every worker is settled before an abort: a part copy still running could otherwise
    // complete after the abort and leave a part behind.
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.min(COPY_CONCURRENCY, ranges.length) }, () =>
        worker().catch((e: unknown) => {
          failed = true;
          throw e;
        }),
      ),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failure) throw failure.reason;
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }),
    );
  } catch (e) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId })).catch((abortError: unknown) => {
      if (!isMissingUpload(abortError)) throw new AggregateError([e, abortError], "multipart copy failed and could not be aborted");
    });
    throw e;
  }
}

/** Inclusive [start, end] byte ranges of `partSize` covering `size` bytes. */
export function partRanges(size: number, partSize: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < size; start += partSize) ranges.push([start, Math.min(start + partSize, size) - 1]);
  return ranges;
}
