import { fileTypeFromBuffer } from "file-type";
import { normaliseType, OCTET_STREAM } from "../domain/media-types.js";
import { sniffText } from "../domain/sniff-text.js";
import type { Sniffer } from "../ports/sniffer.js";

/**
 * Binary signatures through file-type, then our own text rules for what it leaves
 * unidentified (SVG, HTML, XML, plain text).
 */
export function createSniffer(): Sniffer {
  return {
    // file-type reads at most a few KiB for the formats we care about; 64 KiB also lets
    // the text rules see past long XML prologues.
    headBytes: 64 * 1024,
    async sniff(head) {
      if (head.length === 0) return OCTET_STREAM;
      const found = await fileTypeFromBuffer(head);
      // file-type calls every XML document application/xml; SVG is told apart by its root.
      if (found && found.mime !== "application/xml") return normaliseType(found.mime);
      return sniffText(head);
    },
  };
}
