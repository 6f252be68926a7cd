import { describe, expect, it } from "vitest";
import { AppError } from "../domain/errors.js";
import { contentDisposition, filenameFromDisposition, parseContentDigest } from "./headers.js";
import { etagMatches, parseRange } from "./ranges.js";

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

describe("Content-Disposition", () => {
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
