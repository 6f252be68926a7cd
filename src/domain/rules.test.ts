import { describe, expect, it } from "vitest";
import { IllegalTransitionError } from "./errors.js";
import { sanitiseFilename } from "./filename.js";
import { assertTransition, canTransition } from "./states.js";
import { isAssetId, newAssetId } from "./ids.js";
import { rawKey } from "./content-address.js";

describe("state machine", () => {
  it("allows the documented edges", () => {
    expect(canTransition("pending", "uploaded")).toBe(true);
    expect(canTransition("verified", "ready")).toBe(true);
    expect(canTransition("ready", "deleted")).toBe(true);
    expect(canTransition("uploaded", "quarantined")).toBe(true);
  });

  it("raises on anything else", () => {
    expect(() => assertTransition("ready", "verified")).toThrow(IllegalTransitionError);
    expect(() => assertTransition("deleted", "ready")).toThrow(IllegalTransitionError);
    expect(() => assertTransition("pending", "ready")).toThrow(IllegalTransitionError);
    expect(() => assertTransition("ready", "quarantined")).toThrow(IllegalTransitionError);
  });
});

describe("filenames", () => {
  it("keeps only the last path segment and drops control characters", () => {
    expect(sanitiseFilename("../../etc/passwd")).toBe("passwd");
    expect(sanitiseFilename("C:\\Users\\x\\photo.jpg")).toBe("photo.jpg");
    expect(sanitiseFilename("a\u0000b\nc.png")).toBe("abc.png");
    expect(sanitiseFilename("..")).toBe("upload");
    expect(sanitiseFilename("")).toBe("upload");
    expect(new TextEncoder().encode(sanitiseFilename("é".repeat(300))).length).toBeLessThanOrEqual(255);
  });
});

describe("ids and keys", () => {
  it("issues sortable ids", () => {
    const a = newAssetId(1000);
    const b = newAssetId(2000);
    expect(isAssetId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(isAssetId("../../x")).toBe(false);
  });
  it("fans content keys out by hash prefix", () => {
    const sha = "abcd" + "0".repeat(60);
    expect(rawKey(sha)).toBe(`raw/ab/cd/${sha}`);
    expect(() => rawKey("../x")).toThrow();
  });
});
