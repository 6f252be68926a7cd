/** Identifies content from its first bytes. Never trusts names or declared types. */
export interface Sniffer {
  /** How many leading bytes `sniff` wants to see. */
  readonly headBytes: number;
  /** A normalised media type; `application/octet-stream` when unknown. */
  sniff(head: Uint8Array): Promise<string>;
}
