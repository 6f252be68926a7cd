import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "./errors.js";
import { applyTagPatch, checkTagFilters, checkTags, TAG_LIMITS } from "./tags.js";

const many = (n: number, value = "v"): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));

function refusal(work: () => unknown): InvalidParameterError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    const e = error as InvalidParameterError;
    expect([e.code, e.status, e.details]).toEqual(["invalid_parameter", 400, { parameter: "tags" }]);
    return e;
  }
  throw new Error("expected a refusal");
}

describe("tag caps", () => {
  it("are the ones DESIGN §10 pins", () => {
    expect(TAG_LIMITS).toEqual({ maxTagsPerAsset: 64, maxKeyChars: 64, maxValueChars: 1024, maxFiltersPerListing: 20 });
  });

  it("accept 64 tags with 64-character keys and 1024-character values, refuse one more of each", () => {
    expect(() => checkTags(many(64, "x".repeat(1024)))).not.toThrow();
    expect(() => checkTags({ ["k".repeat(64)]: "" })).not.toThrow();
    expect(refusal(() => checkTags(many(65))).message).toBe("an asset has at most 64 tags");
    expect(refusal(() => checkTags({ ["k".repeat(65)]: "v" })).message).toBe("tag keys are at most 64 characters");
    expect(refusal(() => checkTags({ k: "x".repeat(1025) })).message).toBe("tag values are at most 1024 characters");
    refusal(() => checkTags({ "": "v" }));
  });

  it("count characters, not UTF-16 units", () => {
    expect(() => checkTags({ ["😀".repeat(64)]: "é".repeat(1024) })).not.toThrow();
    refusal(() => checkTags({ ["😀".repeat(65)]: "v" }));
  });

  it("refuse a 75k-tag body by its count", () => {
    const body = many(75_000);
    expect(refusal(() => checkTags(body)).message).toMatch(/at most 64 tags/);
    expect(refusal(() => applyTagPatch({}, body)).message).toMatch(/at most 64 tags/);
  });
});

describe("applyTagPatch", () => {
  it("sets and removes tags and returns the resulting set", () => {
    expect(applyTagPatch({ a: "1", b: "2" }, { b: null, c: "3" })).toEqual({ a: "1", c: "3" });
  });

  it("judges the resulting set: a patch may replace tags of a full asset but not add one", () => {
    const full = many(64);
    expect(Object.keys(applyTagPatch(full, { k0: null, extra: "v" }))).toHaveLength(64);
    expect(refusal(() => applyTagPatch(full, { extra: "v" })).message).toBe("an asset has at most 64 tags");
    expect(applyTagPatch(full, { k1: "changed" }).k1).toBe("changed");
  });

  it("checks keys and values it sets, and keys it removes", () => {
    refusal(() => applyTagPatch({}, { k: "x".repeat(1025) }));
    refusal(() => applyTagPatch({}, { ["k".repeat(65)]: null }));
  });

  it("keeps a __proto__ key as a plain tag", () => {
    const result = applyTagPatch({}, JSON.parse(`{"__proto__": "v"}`) as Record<string, string>);
    expect(Object.keys(result)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });
});

describe("checkTagFilters", () => {
  it("accepts up to 20 filters and refuses 21", () => {
    const filters = Array.from({ length: 20 }, (_, i) => [`k${i}`, "v"] as const);
    expect(() => checkTagFilters(filters)).not.toThrow();
    expect(refusal(() => checkTagFilters([...filters, ["k20", "v"]])).message).toBe("a listing takes at most 20 tag filters");
    refusal(() => checkTagFilters(Array.from({ length: 1400 }, (_, i) => [`k${i}`, "v"] as const)));
  });

  it("refuses filters no tag could match", () => {
    refusal(() => checkTagFilters([["k".repeat(65), "v"]]));
    refusal(() => checkTagFilters([["k", "x".repeat(1025)]]));
  });
});
