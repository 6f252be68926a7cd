import { describe, expect, it } from "vitest";
import { chooseLogFormat } from "./logger.js";

describe("chooseLogFormat", () => {
  it("is pretty on a terminal and JSON elsewhere unless chosen", () => {
    expect(chooseLogFormat("auto", true)).toBe("pretty");
    expect(chooseLogFormat("auto", false)).toBe("json");
    expect(chooseLogFormat("json", true)).toBe("json");
    expect(chooseLogFormat("pretty", false)).toBe("pretty");
  });
});
