/** recipe.ts's MAX_DIMENSION (not imported: recipe.ts imports this module). */
const MAX_DIMENSION = 8192;

/**
 * Client Hints (ASSETD_CLIENT_HINTS): a browser told `Accept-CH` sends its device pixel
 * ratio and the image's layout width, and the variant is rendered for them. Hints are
 * rounded to a few steps before they enter the recipe (hence the cache key), so a site
 * has a handful of variants per image rather than one per device.
 *
 * - `Sec-CH-DPR` (or `DPR`): when the URL has no `dpr`, multiplies `w` and `h` like `dpr`
 *   would, rounded up to 1, 1.5, 2 or 3.
 * - `Sec-CH-Width` (or `Width`): the width in physical pixels when the URL says `w=auto`
 *   (Cloudinary's `w_auto`), rounded up to a multiple of 100; without it
 *   `Sec-CH-Viewport-Width` (or `Viewport-Width`) times the DPR stands in, and without
 *   either `w=auto` leaves the width alone. A URL with a number for `w` never reads them.
 */
export interface ClientHints {
  readonly dpr?: number;
  readonly width?: number;
  readonly viewportWidth?: number;
}

/** The hints a response may have depended on; `Vary` names each one's two header names. */
export type HintName = "dpr" | "width" | "viewportWidth";

export const HINT_HEADERS: Readonly<Record<HintName, readonly [string, string]>> = {
  dpr: ["Sec-CH-DPR", "DPR"],
  width: ["Sec-CH-Width", "Width"],
  viewportWidth: ["Sec-CH-Viewport-Width", "Viewport-Width"],
};

/** What transform responses send with ASSETD_CLIENT_HINTS (modern names first, then the legacy ones). */
export const ACCEPT_CH = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width, DPR, Width, Viewport-Width";

export const DPR_STEPS = [1, 1.5, 2, 3] as const;
export const WIDTH_STEP = 100;

/** The smallest step at or above the device's ratio (never a blurry image), at most 3. */
export function roundDpr(value: number): number {
  return DPR_STEPS.find((step) => step >= value - 1e-9) ?? DPR_STEPS[DPR_STEPS.length - 1]!;
}

/** Up to the next multiple of WIDTH_STEP, within 1..MAX_DIMENSION. */
export function roundWidth(value: number): number {
  return Math.min(MAX_DIMENSION, Math.max(WIDTH_STEP, Math.ceil(value / WIDTH_STEP) * WIDTH_STEP));
}

/** Reads the request's hints (the Sec-CH name wins); a malformed or non-positive value is no hint. */
export function readClientHints(header: (name: string) => string | undefined): ClientHints {
  const read = (name: HintName) => {
    const [modern, legacy] = HINT_HEADERS[name];
    const text = (header(modern.toLowerCase()) ?? header(legacy.toLowerCase()))?.trim();
    if (text === undefined || !/^\d+(\.\d+)?$|^\.\d+$/.test(text)) return undefined;
    const value = Number(text);
    return value > 0 && Number.isFinite(value) ? value : undefined;
  };
  const dpr = read("dpr");
  const width = read("width");
  const viewportWidth = read("viewportWidth");
  return { ...(dpr !== undefined ? { dpr } : {}), ...(width !== undefined ? { width } : {}),
    ...(viewportWidth !== undefined ? { viewportWidth } : {}) };
}

/** The `Vary` header names for the hints a response depended on. */
export function varyNames(used: readonly HintName[]): string[] {
  return used.flatMap((name) => HINT_HEADERS[name]);
}

/**
 * The width `w=auto` resolves to, the DPR that scales numeric sides, and the hints they
 * read. `hints` undefined: the feature is off, nothing is read and `w=auto` means no width.
 */
export function applyHints(raw: { w?: string | undefined; h?: string | undefined; dpr?: number | undefined }, hints: ClientHints | undefined):
  { width?: number; dpr?: number; used: HintName[] } {
  const used: HintName[] = [];
  if (!hints) return { used };
  const auto = raw.w === "auto";
  const numericSide = (raw.w !== undefined && !auto) || raw.h !== undefined;
  let dpr: number | undefined;
  // DPR scales numeric sides and the viewport width; it is read only where it can matter.
  const readDpr = () => {
    if (!used.includes("dpr")) used.push("dpr");
    return hints.dpr === undefined ? undefined : roundDpr(hints.dpr);
  };
  if (raw.dpr === undefined && numericSide) dpr = readDpr();
  let width: number | undefined;
  if (auto) {
    used.push("width");
    if (hints.width !== undefined) width = roundWidth(hints.width);
    else {
      used.push("viewportWidth");
      if (hints.viewportWidth !== undefined) {
        const ratio = raw.dpr ?? readDpr() ?? 1;
        width = roundWidth(hints.viewportWidth * ratio);
      }
    }
  }
  return { ...(width !== undefined ? { width } : {}), ...(dpr !== undefined ? { dpr } : {}), used };
}
