import { describe, expect, it } from "vitest";
import { STEPS } from "./pipeline.js";

describe("pipeline", () => {
  it("runs the steps in the fixed, documented order", () => {
    expect(STEPS.map((s) => s.name)).toEqual(
      ["auto-orient", "crop", "trim", "resize", "rotate", "flip", "flop", "blur", "sharpen", "tone", "background", "colour", "output"]);
  });
});
