import { describe, expect, it } from "vitest";
import { createTokens } from "./jwt.js";

describe("bearer tokens", () => {
  const tokens = createTokens("x".repeat(32));

  it("round-trips claims, also when answered from the verified cache", async () => {
    const token = await tokens.sign({ sub: "alice", admin: true, groups: ["editors"] }, 60);
    expect(await tokens.verify(token)).toEqual({ sub: "alice", admin: true, groups: ["editors"] });
    expect(await tokens.verify(token)).toEqual({ sub: "alice", admin: true, groups: ["editors"] });
  });

  it("refuses tampered, foreign and expired tokens", async () => {
    const token = await tokens.sign({ sub: "bob" });
    await expect(tokens.verify(token.slice(0, -2) + "xx")).rejects.toMatchObject({ code: "invalid_token" });
    const foreign = await createTokens("y".repeat(32)).sign({ sub: "bob" });
    await expect(tokens.verify(foreign)).rejects.toMatchObject({ code: "invalid_token" });
    const expired = await tokens.sign({ sub: "bob" }, -5);
    await expect(tokens.verify(expired)).rejects.toMatchObject({ code: "invalid_token", message: "the token has expired" });
  });

  it("stops accepting a cached token once it expires", async () => {
    const token = await tokens.sign({ sub: "carol" }, 1);
    expect((await tokens.verify(token)).sub).toBe("carol");
    await new Promise((r) => setTimeout(r, 2100));
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: "invalid_token" });
  });
});
