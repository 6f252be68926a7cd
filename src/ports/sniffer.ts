import type { Readable } from "node:stream";

/** The whole content, for a second look the head could not settle. */
export interface WholeContent {
  readonly size: number;
  /** The bytes from the start. */
  read(): Promise<Readable>;
}

/** Identifies content from its first bytes. Never trusts names or declared types. */
export interface Sniffer {
  /** How many leading bytes `sniff` wants to see. */
  readonly headBytes: number;
  /** A normalised media type; `application/octet-stream` when unknown. */
  sniff(head: Uint8Array): Promise<string>;
  /**
   * Formats whose structure is not at the start (a TIFF whose directory sits at its end):
   * given the head's verdict, looks at the whole content when the head was unsure and
   * returns the better type, or `headType` unchanged. Optional: without it the head decides.
   */
  confirm?(head: Uint8Array, headType: string, content: WholeContent): Promise<string>;
}
