import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalRequest, checkSignature, signDashManifest, signedUrlLifetime, signPlaylist, signUrl, urlSigningKeys } from "./signed-url.js";

const keys = { keys: ["first-key"] };
const path = "/a/01J0000000000000000000000A/photo.jpg";
const now = 1_800_000_000;

function parts(url: string) {
  const [p, q = ""] = url.split("?");
  return { path: p!, query: new URLSearchParams(q) };
}

describe("signed URLs", () => {
  it("sign over the path and the query sorted by name, sig excluded", () => {
    expect(canonicalRequest("/x", new URLSearchParams("w=300&exp=5&fmt=webp&sig=zzz"))).toBe("/x?exp=5&fmt=webp&w=300");
    const url = signUrl(path, "w=300&fmt=webp", now + 60, keys);
    const { query } = parts(url);
    const expected = createHmac("sha256", "first-key").update(`${path}?exp=${now + 60}&fmt=webp&w=300`).digest("base64url");
    expect(query.get("sig")).toBe(expected);
    expect(query.get("exp")).toBe(String(now + 60));
  });

  it("verify until exp, then report expired", () => {
    const { path: p, query } = parts(signUrl(path, "w=300", now + 60, keys));
    expect(checkSignature(p, query, keys, now)).toEqual({ kind: "valid", expiresAt: now + 60 });
    expect(checkSignature(p, query, keys, now + 60)).toEqual({ kind: "expired", expiredAt: now + 60 });
  });

  it("grant exactly that URL: another path, parameter or exp is invalid", () => {
    const { path: p, query } = parts(signUrl(path, "w=300", now + 60, keys));
    expect(checkSignature(p.replace("photo", "other"), query, keys, now).kind).toBe("invalid");
    const wider = new URLSearchParams(query);
    wider.set("w", "3000");
    expect(checkSignature(p, wider, keys, now).kind).toBe("invalid");
    const later = new URLSearchParams(query);
    later.set("exp", String(now + 99_999));
    expect(checkSignature(p, later, keys, now).kind).toBe("invalid");
    const extra = new URLSearchParams(query);
    extra.append("h", "10");
    expect(checkSignature(p, extra, keys, now).kind).toBe("invalid");
  });

  it("refuse half-signed, malformed and duplicated parameters", () => {
    expect(checkSignature(path, new URLSearchParams("w=1"), keys, now)).toEqual({ kind: "unsigned" });
    expect(checkSignature(path, new URLSearchParams(`exp=${now + 5}`), keys, now).kind).toBe("invalid");
    expect(checkSignature(path, new URLSearchParams("sig=abc"), keys, now).kind).toBe("invalid");
    const { query } = parts(signUrl(path, "", now + 60, keys));
    const doubled = new URLSearchParams(query);
    doubled.append("sig", query.get("sig")!);
    expect(checkSignature(path, doubled, keys, now).kind).toBe("invalid");
    const badExp = new URLSearchParams(query);
    badExp.set("exp", "1e12");
    expect(checkSignature(path, badExp, keys, now).kind).toBe("invalid");
  });

  it("does not tell whether a forged URL has expired", () => {
    const forged = new URLSearchParams(`exp=${now - 10}&sig=${Buffer.alloc(32).toString("base64url")}`);
    expect(checkSignature(path, forged, keys, now).kind).toBe("invalid");
  });

  it("roll keys: the first signs, every key verifies", () => {
    const old = { keys: ["old-key"] };
    const rolled = { keys: ["new-key", "old-key"] };
    const { path: p, query } = parts(signUrl(path, "w=10", now + 60, old));
    expect(checkSignature(p, query, rolled, now).kind).toBe("valid");
    const fresh = parts(signUrl(path, "w=10", now + 60, rolled));
    expect(checkSignature(fresh.path, fresh.query, old, now).kind).toBe("invalid");
    expect(checkSignature(fresh.path, fresh.query, { keys: ["new-key"] }, now).kind).toBe("valid");
  });

  it("derive a key from the JWT secret when none is configured", () => {
    expect(urlSigningKeys(["a", "b"], "s").keys).toEqual(["a", "b"]);
    const derived = urlSigningKeys([], "secret").keys;
    expect(derived).toHaveLength(1);
    expect(derived[0]).not.toBe("secret");
    expect(urlSigningKeys([], "secret").keys).toEqual(derived);
    expect(urlSigningKeys([], "other").keys).not.toEqual(derived);
  });

  it("clamp lifetimes to one week, one hour by default", () => {
    expect(signedUrlLifetime(undefined)).toBe(3600);
    expect(signedUrlLifetime(10)).toBe(10);
    expect(signedUrlLifetime(10_000_000)).toBe(604_800);
    expect(signedUrlLifetime(0)).toBe(1);
  });

  it("sign every URI of a playlist relative to it, with the playlist's expiry", () => {
    const master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n#EXT-X-MAP:URI=\"init.mp4\"\nhttps://cdn.example/x.ts\n";
    const signed = signPlaylist(master, "/a/ID/hls/master.m3u8", now + 60, keys).split("\n");
    const rendition = new URL(signed[2]!, "http://x");
    expect(rendition.pathname).toBe("/a/ID/hls/720p/index.m3u8");
    expect(checkSignature(rendition.pathname, rendition.searchParams, keys, now)).toEqual({ kind: "valid", expiresAt: now + 60 });
    const map = /URI="([^"]+)"/.exec(signed[3]!)![1]!;
    expect(new URL(map, "http://x").pathname).toBe("/a/ID/hls/init.mp4");
    expect(signed[4]).toBe("https://cdn.example/x.ts");
    const segment = new URL(signPlaylist("seg_00001.ts", "/a/ID/hls/720p/index.m3u8", now + 60, keys), "http://x");
    expect(segment.pathname).toBe("/a/ID/hls/720p/seg_00001.ts");
    expect(checkSignature(segment.pathname, segment.searchParams, keys, now).kind).toBe("valid");
  });

  it("sign every segment URL of a DASH manifest relative to it, escaped for XML", () => {
    const mpd = '<SegmentList><Initialization sourceURL="../hls/720p/init_0.mp4"/><SegmentURL media="../hls/720p/seg_00000.m4s"/>' +
      '<SegmentURL media="https://cdn.example/s.m4s"/></SegmentList>';
    const signed = signDashManifest(mpd, "/a/ID/dash/manifest.mpd", now + 60, keys);
    const urls = [...signed.matchAll(/(?:sourceURL|media)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls[2]).toBe("https://cdn.example/s.m4s");
    for (const [i, path] of ["/a/ID/hls/720p/init_0.mp4", "/a/ID/hls/720p/seg_00000.m4s"].entries()) {
      expect(urls[i]).toContain("&amp;");
      const url = new URL(urls[i]!.replace(/&amp;/g, "&"), "http://x");
      expect(url.pathname).toBe(path);
      expect(checkSignature(url.pathname, url.searchParams, keys, now)).toEqual({ kind: "valid", expiresAt: now + 60 });
    }
  });
});
