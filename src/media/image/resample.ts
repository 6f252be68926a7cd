/**
 * Box (area-average) resampling of small interleaved pixel buffers: each output pixel is
 * the mean of the source area it covers, fractional edges weighted. The fingerprints work
 * on a thumbnail of at most 64x64, so plain loops cost microseconds, and a pure function
 * keeps the hashes independent of libvips' resampling kernels.
 */
export function resampleArea(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  toWidth: number,
  toHeight: number,
): Float64Array {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`expected ${width}x${height}x${channels} values, got ${pixels.length}`);
  }
  const out = new Float64Array(toWidth * toHeight * channels);
  const columns = spans(width, toWidth);
  const rows = spans(height, toHeight);
  for (let ty = 0; ty < toHeight; ty++) {
    for (const [y, wy] of rows[ty]!) {
      for (let tx = 0; tx < toWidth; tx++) {
        const target = (ty * toWidth + tx) * channels;
        for (const [x, wx] of columns[tx]!) {
          const source = (y * width + x) * channels;
          const weight = wy * wx;
          for (let c = 0; c < channels; c++) out[target + c]! += pixels[source + c]! * weight;
        }
      }
    }
  }
  return out;
}

/** For each output index along one axis: the source indices it covers and their weights (summing to 1). */
function spans(from: number, to: number): Array<Array<readonly [number, number]>> {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from > 0 && to > 0)) {
    throw new RangeError(`cannot resample ${from} pixels to ${to}`);
  }
  const scale = from / to;
  const result: Array<Array<readonly [number, number]>> = [];
  for (let i = 0; i < to; i++) {
    const start = i * scale;
    const end = start + scale;
    const covered: Array<readonly [number, number]> = [];
    for (let j = Math.floor(start); j < Math.min(from, Math.ceil(end)); j++) {
      const overlap = Math.min(end, j + 1) - Math.max(start, j);
      if (overlap > 1e-12) covered.push([j, overlap / scale]);
    }
    result.push(covered);
  }
  return result;
}
