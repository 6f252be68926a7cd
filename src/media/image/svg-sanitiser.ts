import { normaliseType } from "../../domain/media-types.js";
import type { OriginalScrubber } from "../../ports/original-scrubber.js";

/**
 * SVG originals as non-owners receive them: scripts, event-handler attributes and
 * `javascript:` links removed by svgo's `removeScripts` (a maintained SVG toolkit), and
 * nothing else touched. The response keeps `Content-Security-Policy: sandbox` as a second
 * wall. A document svgo cannot parse is not served as it is: it becomes an empty SVG.
 */
export function createSvgSanitiser(): OriginalScrubber {
  return {
    etagSuffix: "safe",
    handles: (contentType) => normaliseType(contentType) === "image/svg+xml",
    async scrub(original) {
      // Loaded on the first SVG a non-owner asks for: most deployments never pay for it.
      const { optimize } = await import("svgo");
      const text = original.toString("utf8");
      const serialise = (plugins: ["removeScripts"] | []) => optimize(text, { multipass: false, plugins, js2svg: { pretty: false } }).data;
      let cleaned: string;
      let plain: string;
      try {
        cleaned = serialise(["removeScripts"]);
        plain = serialise([]);
      } catch {
        return { bytes: Buffer.from(EMPTY_SVG, "utf8"), removed: true };
      }
      // svgo re-serialises every document: the bytes change only when a script went.
      if (cleaned === plain) return { bytes: original, removed: false };
      return { bytes: Buffer.from(cleaned, "utf8"), removed: true };
    },
  };
}

const EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg"/>';
