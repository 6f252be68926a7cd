import { describe, expect, it } from "vitest";
import { parseEager } from "./eager.js";
import { parseTransform } from "./recipe.js";

const check = (query: Record<string, string | string[] | undefined>) => void parseTransform(query);

describe("eager variants of an upload", () => {
  it("reads a |-separated list and a JSON array, canonically and once each", () => {
    expect(parseEager("w=300&fmt=webp|w=100", "list", check)).toEqual(["w=300&fmt=webp", "w=100"]);
    expect(parseEager('["w=300&fmt=webp","preset=thumb","w=300&fmt=webp"]', "json", check)).toEqual(["w=300&fmt=webp", "preset=thumb"]);
    expect(parseEager(undefined, "list", check)).toEqual([]);
  });

  it("refuses bad recipes naming eager", () => {
    for (const [value, shape] of [["w=abc", "list"], ["zoom=2", "list"], ["w=1|", "list"], ["download=1", "list"], ['{"w":1}', "json"], ["[1]", "json"], ["nope", "json"]] as const) {
      expect(() => parseEager(value, shape, check), value).toThrow(expect.objectContaining({ code: "invalid_parameter", details: { parameter: "eager" } }));
    }
    expect(() => parseEager(Array.from({ length: 17 }, (_, i) => `w=${i + 1}`).join("|"), "list", check)).toThrow(/at most 16/);
  });
});
