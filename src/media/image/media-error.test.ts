import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { AppError } from "../../domain/errors.js";
import { toMediaError } from "./media-error.js";

describe("toMediaError", () => {
  it("maps libvips decode failures to undecodable_media without leaking the message", () => {
    for (const message of ["VipsJpeg: premature end of JPEG image", "Input buffer contains unsupported image format",
      "/srv/blobs/ab/cd/abcd: bad seek to 42945", "Input file has corrupt header: gifload: bad page number"]) {
      const error = toMediaError(new Error(message));
      expect(error.code).toBe("undecodable_media");
      expect(error.message).not.toContain(message);
      expect((error.cause as Error).message).toBe(message);
    }
  });

  it("recognises the pixel limit and encoder size limits", () => {
    expect(toMediaError(new Error("Input image exceeds pixel limit")).code).toBe("pixel_limit_exceeded");
    expect(toMediaError(new Error("Processed image is too large for the WebP format")).code).toBe("output_too_large");
  });

  it("keeps our own bugs and storage failures out of 422", () => {
    expect(toMediaError(new Error("Rotate is not supported for multi-page images")).code).toBe("internal");
    expect(toMediaError(new Error("Input file is missing: /data/store/x")).code).toBe("internal");
  });

  it("passes AppErrors through", () => {
    const original = new AppError("pixel_limit_exceeded", "x", { width: 1 });
    expect(toMediaError(original)).toBe(original);
  });

  it("turns sharp's own deadline into 422 render_timeout", async () => {
    const slow = sharp({ create: { width: 6000, height: 6000, channels: 3, background: "#808080" } })
      .blur(200).timeout({ seconds: 1 }).png();
    const error = await slow.toBuffer().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(toMediaError(error)).toMatchObject({ code: "render_timeout", status: 422 });
  });
});
