import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import { createHeifDecoder } from "../../src/media/image/heif-decode.js";
import { fixture } from "../helpers/fixtures.js";
import { withClaimedSize } from "../helpers/heif.js";

const HEIC = "formats/olympus-darkesthour-1024x640.heic";

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** The libheif worker pool on its own: pixels out, refusals as catalog errors. */
describe("HEIF decoder", () => {
  const heif = createHeifDecoder({ threads: 2 });
  afterAll(() => heif.close());

  it("decodes the primary image to packed RGB, two at a time", async () => {
    const [a, b] = await Promise.all([heif.decode(fixture(HEIC), 100e6), heif.decode(fixture(HEIC), 100e6)]);
    expect(a).toMatchObject({ width: 1024, height: 640, channels: 3 });
    expect(a!.data.length).toBe(1024 * 640 * 3);
    expect(Buffer.from(b!.data).equals(Buffer.from(a!.data))).toBe(true);
  });

  it("refuses an image over the limit by its header, in the worker too", async () => {
    const error = await appErrorOf(heif.decode(withClaimedSize(fixture(HEIC), 20_000, 20_000), 100e6));
    expect(error.code).toBe("pixel_limit_exceeded");
    expect(error.details).toMatchObject({ width: 20_000, height: 20_000 });
  });

  it("bytes that are not HEIF, or cut short, are undecodable_media", async () => {
    const garbage = await appErrorOf(heif.decode(Buffer.from("not a heif file at all"), 100e6));
    expect(garbage.code).toBe("undecodable_media");
    expect(garbage.details.reason).toMatch(/HEIF/); // libheif's own words, kept off stdout
    const cut = fixture(HEIC).subarray(0, 20_000);
    expect((await appErrorOf(heif.decode(cut, 100e6))).code).toBe("undecodable_media");
  });
});
