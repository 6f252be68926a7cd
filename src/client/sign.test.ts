import { describe, expect, it } from "vitest";
import { checkSignature } from "../domain/signed-url.js";
import { signUrl } from "./sign.js";

describe("the client's URL signer", () => {
  it("makes URLs the server's rule accepts, for paths and absolute URLs", async () => {
    const keys = { keys: ["k1"] };
    const now = Math.floor(Date.now() / 1000);
    for (const url of ["/a/01J0000000000000000000000A?w=300&fmt=webp", "https://cdn.example/a/01J0000000000000000000000A/hls/master.m3u8"]) {
      const signed = await signUrl(url, { key: "k1", expiresIn: 120 });
      const parsed = new URL(signed, "http://x");
      if (url.startsWith("https:")) expect(parsed.origin).toBe("https://cdn.example");
      const check = checkSignature(parsed.pathname, parsed.searchParams, keys, now);
      expect(check.kind).toBe("valid");
      expect(Number(parsed.searchParams.get("exp"))).toBeGreaterThanOrEqual(now + 119);
      expect(checkSignature(parsed.pathname, parsed.searchParams, { keys: ["other"] }, now).kind).toBe("invalid");
    }
  });

  it("caps the lifetime at one week and honours an exact expiry", async () => {
    const long = new URL(await signUrl("/a/x", { key: "k", expiresIn: 10_000_000 }), "http://x");
    expect(Number(long.searchParams.get("exp")) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(604_800);
    const exact = new URL(await signUrl("/a/x?sig=old&exp=1", { key: "k", expiresAt: new Date(2_000_000_000_000) }), "http://x");
    expect(exact.searchParams.getAll("exp")).toEqual(["2000000000"]);
    expect(exact.searchParams.getAll("sig")).toHaveLength(1);
  });
});
