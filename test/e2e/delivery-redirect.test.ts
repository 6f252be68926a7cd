import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { BACKEND, bearer, json, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const needsS3 = BACKEND !== "scale";
if (needsS3) console.warn("[delivery-redirect] skipping the redirect suite: it needs the S3 store (ASSETD_TEST_BACKEND=scale)");

/**
 * ASSETD_DELIVERY_REDIRECT=store: originals answer 302 to a presigned GET of the S3 store
 * (Swift's s3api here) with Content-Type and Content-Disposition signed in; access is
 * checked first, and bytes that must not leave as stored (location removed) stay here.
 */
describe.skipIf(needsS3)("presigned downloads", () => {
  let app: TestApp;
  let alice: string;
  const photo = fixture("formats/lossy-freshflower-800x602.webp");
  const gps = fixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg");

  beforeAll(async () => {
    app = await startApp({ ASSETD_DELIVERY_REDIRECT: "store", ASSETD_DELIVERY_REDIRECT_TTL: "120" });
    alice = await app.token("alice");
  });
  afterAll(() => app.close());

  it("redirects a readable original to the store, which answers with the exact bytes and headers", async () => {
    const id = (await upload(app, alice, photo, {}, "?filename=flower.webp")).body.id;
    const redirect = await fetch(`${app.url}/a/${id}?download=1`, { headers: bearer(alice), redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("cache-control")).toBe("private, no-store");
    const location = redirect.headers.get("location")!;
    expect(new URL(location).origin).not.toBe(new URL(app.url).origin);
    expect(location).toMatch(/X-Amz-Signature=/);

    const followed = await fetch(`${app.url}/a/${id}?download=1`, { headers: bearer(alice) });
    expect(followed.status).toBe(200);
    expect(followed.url).toBe(location);
    expect(followed.headers.get("content-type")).toBe("image/webp");
    expect(followed.headers.get("content-disposition")).toMatch(/^attachment;.*flower\.webp/);
    expect(sha256(new Uint8Array(await followed.arrayBuffer()))).toBe(sha256(photo));
  });

  it("checks access first: a private original is 404 to others, never a redirect", async () => {
    const id = (await upload(app, alice, photo, {}, "?filename=mine.webp")).body.id;
    const stranger = await fetch(`${app.url}/a/${id}`, { redirect: "manual" });
    expect(stranger.status).toBe(404);
    expect((await json(stranger)).error.code).toBe("not_found");
  });

  it("serves a GPS photo's scrubbed copy itself to non-owners, and redirects only its owner", async () => {
    const id = (await upload(app, alice, gps, { "content-type": "image/jpeg", prefer: "wait=10" }, "?public=true")).body.id;
    const anonymous = await fetch(`${app.url}/a/${id}`, { redirect: "manual" });
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get("etag")).toBe(`"${sha256(gps)}-nogps"`);
    await anonymous.arrayBuffer();
    expect((await fetch(`${app.url}/a/${id}`, { headers: bearer(alice), redirect: "manual" })).status).toBe(302);
  });
});

describe("the redirect setting", () => {
  it("is refused at start-up without an S3 store", () => {
    expect(() => loadConfig({ ASSETD_DELIVERY_REDIRECT: "store", ASSETD_DATA_DIR: "/tmp/x" }))
      .toThrow(/ASSETD_DELIVERY_REDIRECT: store needs an S3 store/);
  });
});
