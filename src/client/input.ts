/**
 * What `upload()` accepts, brought to one shape: a Blob (sliced lazily for parts, so a
 * file-backed Blob is never read whole into memory), a filename and a declared type.
 */

/** A Blob with a name and type of its own; `fileInput()` from `assetd/client/node` makes one. */
export interface NamedBlob {
  blob: Blob;
  filename?: string;
  contentType?: string;
}

export type UploadInput = Blob | ArrayBuffer | ArrayBufferView | NamedBlob;

export interface Source {
  blob: Blob;
  size: number;
  filename: string | undefined;
  /** The declared type; the server sniffs the bytes either way. */
  contentType: string;
}

const UNDECLARED = "application/octet-stream";

export function toSource(input: UploadInput, options: { filename?: string; contentType?: string }): Source {
  let blob: Blob;
  let filename: string | undefined;
  let type: string | undefined;
  if (input instanceof Blob) {
    blob = input;
    // A File (browser input, Node 20's global File) carries its name.
    const name: unknown = (input as Blob & { name?: unknown }).name;
    filename = typeof name === "string" ? name : undefined;
    type = input.type;
  } else if (input instanceof ArrayBuffer) {
    blob = new Blob([input]);
  } else if (ArrayBuffer.isView(input)) {
    blob = new Blob([new Uint8Array(input.buffer as ArrayBuffer, input.byteOffset, input.byteLength)]);
  } else if (isNamedBlob(input)) {
    blob = input.blob;
    filename = input.filename;
    type = input.contentType ?? input.blob.type;
  } else {
    throw new TypeError("upload() takes a Blob, File, ArrayBuffer, typed array or { blob, filename }");
  }
  return {
    blob,
    size: blob.size,
    filename: options.filename ?? (filename || undefined),
    contentType: options.contentType ?? (type || UNDECLARED),
  };
}

function isNamedBlob(value: unknown): value is NamedBlob {
  return typeof value === "object" && value !== null && (value as NamedBlob).blob instanceof Blob;
}
