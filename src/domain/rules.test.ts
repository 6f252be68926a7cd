import { describe, expect, it } from "vitest";
import { parseContentDigest } from "./digest.js";
import { AppError, IllegalTransitionError } from "./errors.js";
import { contentDisposition, filenameFromDisposition, sanitiseFilename } from "./filename.js";
import { etagMatches, parseRange } from "./http-rules.js";
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

describe("Content-Digest", () => {
  const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const b64 = Buffer.from(sha, "hex").toString("base64");
  it("reads sha-256 and ignores other algorithms", () => {
    expect(parseContentDigest(`sha-256=:${b64}:`)).toBe(sha);
    expect(parseContentDigest(`sha-512=:AAAA:, sha-256=:${b64}:`)).toBe(sha);
    expect(parseContentDigest("sha-512=:AAAA:")).toBeUndefined();
  });
  it("refuses a malformed sha-256", () => {
    expect(() => parseContentDigest("sha-256=:abc:")).toThrow(AppError);
    expect(() => parseContentDigest(`sha-256=${b64}`)).toThrow(AppError);
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
  it("parses Content-Disposition forms", () => {
    expect(filenameFromDisposition('attachment; filename="a b.jpg"')).toBe("a b.jpg");
    expect(filenameFromDisposition("attachment; filename*=UTF-8''caf%C3%A9.jpg")).toBe("café.jpg");
    expect(filenameFromDisposition("attachment; filename=x.png")).toBe("x.png");
    expect(contentDisposition("attachment", 'caf"é.jpg')).toBe("attachment; filename=\"caf__.jpg\"; filename*=UTF-8''caf%22%C3%A9.jpg");
  });
});

describe("ranges and validators", () => {
  it.each([
    ["bytes=0-0", { kind: "partial", range: { start: 0, end: 0 } }],
    ["bytes=10-", { kind: "partial", range: { start: 10, end: 99 } }],
    ["bytes=-10", { kind: "partial", range: { start: 90, end: 99 } }],
    ["bytes=90-200", { kind: "partial", range: { start: 90, end: 99 } }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=5-2", { kind: "unsatisfiable" }],
    ["bytes=0-1,5-6", { kind: "full" }],
    ["items=0-1", { kind: "full" }],
  ])("%s of 100 bytes", (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
  it("matches entity tags weakly", () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc", "def"', '"abc"')).toBe(true);
    expect(etagMatches('"x"', '"abc"')).toBe(false);
    expect(etagMatches("*", '"abc"')).toBe(true);
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
