import { describe, expect, it } from "vitest";
import { createTokens, secretKeyId } from "./jwt.js";

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

  it("says when a token was minted with another secret", async () => {
    const foreign = await createTokens("y".repeat(32)).sign({ sub: "bob" });
    await expect(tokens.verify(foreign)).rejects.toMatchObject({
      code: "invalid_token", message: expect.stringContaining(`this server's is ${secretKeyId("x".repeat(32))}`),
    });
  });

  it("carries scopes; the admin role counts only with the admin scope", async () => {
    const reader = await tokens.sign({ sub: "rita", admin: true, scopes: ["asset:read"] });
    expect(await tokens.verify(reader)).toEqual({ sub: "rita", admin: false, groups: [], scopes: ["asset:read"] });
    const operator = await tokens.sign({ sub: "otto", admin: true, scopes: ["admin"] });
    expect(await tokens.verify(operator)).toEqual({ sub: "otto", admin: true, groups: [], scopes: ["admin"] });
  });

  it("refuses a revoked token from then on, cached or not", async () => {
    const revoked = new Set<string>();
    const guarded = createTokens("z".repeat(32), { isRevoked: async (jti) => revoked.has(jti) });
    const token = await guarded.sign({ sub: "dan" }, 600);
    expect((await guarded.verify(token)).sub).toBe("dan");
    const { jti, expiresAt } = await guarded.identify(token);
    expect(jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(expiresAt).toBeGreaterThan(Date.now() + 590_000);
    revoked.add(jti!);
    await expect(guarded.verify(token)).rejects.toMatchObject({ code: "token_revoked", status: 401 });
    const other = await guarded.sign({ sub: "dan" }, 600);
    expect((await guarded.verify(other)).sub).toBe("dan");
  });
});
