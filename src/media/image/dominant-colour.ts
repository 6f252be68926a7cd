/** Bits kept per channel: 8 levels each, 512 colour boxes in all. */
const BITS = 3;
const LEVELS = 1 << BITS;
const SHIFT = 8 - BITS;

/** Pixels less than half opaque are background, not colour. */
const MIN_ALPHA = 128;

/**
 * The visually dominant colour of an RGBA thumbnail as `#rrggbb`, or undefined when no
 * pixel is at least half opaque. Not the image mean: half red and half blue averages to a
 * purple that appears nowhere.
 *
 * A coarse colour histogram (32 levels a box, so a photo's noisy sky or wall stays in a few
 * boxes); the winner is the peak box (no neighbour fuller) whose 3x3x3 neighbourhood holds
 * the most pixels, and its colour the mean of the pixels in that neighbourhood. Counting
 * neighbourhoods keeps a cluster that straddles a box edge together; only peaks may win so
 * that a box between two big clusters (olive between green grass and brown leaves) does
 * not; averaging the neighbourhood keeps the answer stable when a resized copy tips a few
 * pixels across an edge.
 */
export function dominantColour(rgba: ArrayLike<number>): string | undefined {
  const count = new Uint32Array(LEVELS ** 3);
  const sums = new Float64Array(count.length * 3);
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    if (rgba[i + 3]! < MIN_ALPHA) continue;
    const r = rgba[i]!, g = rgba[i + 1]!, b = rgba[i + 2]!;
    const box = boxOf(r >> SHIFT, g >> SHIFT, b >> SHIFT);
    count[box]!++;
    sums[box * 3]! += r;
    sums[box * 3 + 1]! += g;
    sums[box * 3 + 2]! += b;
  }

  let best = -1;
  let bestScore = 0;
  for (let box = 0; box < count.length; box++) {
    const own = count[box]!;
    if (own === 0) continue;
    let score = 0;
    let peak = true;
    forNeighbourhood(box, (n) => {
      score += count[n]!;
      if (count[n]! > own) peak = false;
    });
    if (peak && score > bestScore) [best, bestScore] = [box, score];
  }
  if (best < 0) return undefined;

  const mean = [0, 0, 0];
  forNeighbourhood(best, (n) => {
    for (let c = 0; c < 3; c++) mean[c]! += sums[n * 3 + c]!;
  });
  return `#${mean.map((sum) => Math.round(sum / bestScore).toString(16).padStart(2, "0")).join("")}`;
}

function boxOf(r: number, g: number, b: number): number {
  return (r * LEVELS + g) * LEVELS + b;
}

/** Calls `visit` for the box and each of its (up to 26) neighbours. */
function forNeighbourhood(box: number, visit: (neighbour: number) => void): void {
  const r = Math.floor(box / (LEVELS * LEVELS));
  const g = Math.floor(box / LEVELS) % LEVELS;
  const b = box % LEVELS;
  for (let nr = Math.max(0, r - 1); nr <= Math.min(LEVELS - 1, r + 1); nr++) {
    for (let ng = Math.max(0, g - 1); ng <= Math.min(LEVELS - 1, g + 1); ng++) {
      for (let nb = Math.max(0, b - 1); nb <= Math.min(LEVELS - 1, b + 1); nb++) visit(boxOf(nr, ng, nb));
    }
  }
}
