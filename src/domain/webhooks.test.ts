import { describe, expect, it } from "vitest";
import { EMPTY_ALLOW_LIST, parseFetchAllow } from "./fetch-guard.js";
import { checkWebhookUrl, eventOf, formatSecret, signWebhook, verifyWebhook, webhookBody } from "./webhooks.js";

describe("webhook signatures", () => {
  // The example of the Standard Webhooks specification (and its reference libraries' tests).
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it("reproduces the specification's published signature", () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("verifies one of several signatures and refuses a changed body, id or timestamp", () => {
    const header = `v1,bm9wZQ== ${signWebhook(secret, id, timestamp, body)}`;
    expect(verifyWebhook(secret, id, timestamp, body, header)).toBe(true);
    expect(verifyWebhook(secret, id, timestamp, `${body} `, header)).toBe(false);
    expect(verifyWebhook(secret, "msg_other", timestamp, body, header)).toBe(false);
    expect(verifyWebhook(secret, id, timestamp + 1, body, header)).toBe(false);
  });

  it("makes secrets of 24 to 64 random bytes behind whsec_", () => {
    const made = formatSecret(new Uint8Array(32).fill(7));
    expect(made).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(made.slice(6), "base64")).toHaveLength(32);
    expect(() => formatSecret(new Uint8Array(16))).toThrow();
  });
});

describe("webhook events", () => {
  it("names the state changes subscribers hear about, and only those", () => {
    expect(eventOf("verified", "ready")).toBe("asset.ready");
    expect(eventOf("verified", "failed")).toBe("asset.failed");
    expect(eventOf("uploaded", "quarantined")).toBe("asset.quarantined");
    expect(eventOf("ready", "deleted")).toBe("asset.deleted");
    expect(eventOf("deleted", "ready")).toBe("asset.restored");
    expect(eventOf("deleted", "deleted")).toBeUndefined(); // a purge
    expect(eventOf("pending", "verified")).toBeUndefined();
    expect(eventOf(null, "pending")).toBeUndefined();
  });

  it("serialises {type, timestamp, data: {asset}}", () => {
    expect(JSON.parse(webhookBody("asset.ready", Date.UTC(2026, 0, 2), { id: "A" }))).toEqual({
      type: "asset.ready", timestamp: "2026-01-02T00:00:00.000Z", data: { asset: { id: "A" } },
    });
  });
});

describe("webhook target URLs", () => {
  it("refuses private and loopback literals and localhost unless allowed", () => {
    for (const url of ["http://127.0.0.1:9000/h", "http://[::1]/h", "http://10.0.0.5/h", "http://169.254.169.254/", "http://localhost:8080/h", "http://a.localhost/"]) {
      expect(() => checkWebhookUrl(url, EMPTY_ALLOW_LIST), url).toThrow(expect.objectContaining({ code: "url_not_allowed" }));
    }
    expect(() => checkWebhookUrl("ftp://example.com/", EMPTY_ALLOW_LIST)).toThrow(expect.objectContaining({ code: "url_not_allowed" }));
    expect(checkWebhookUrl("http://127.0.0.1:9000/h", parseFetchAllow("127.0.0.1:9000")).port).toBe("9000");
    expect(checkWebhookUrl("https://hooks.example.com/in", EMPTY_ALLOW_LIST).host).toBe("hooks.example.com");
  });
});
