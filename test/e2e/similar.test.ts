import { isBlurhashValid } from "blurhash";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

interface SimilarItem {
  distance: number;
  asset: { id: string; status: string; urls: { original: string }; meta: Record<string, unknown> };
}

describe("near-duplicates: GET /v1/assets/:id/similar", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  /** alice's public original, her private half-size JPEG q=60 copy, two unrelated photos; bob's private copy. */
  const id = { original: "", copy: "", unrelated1: "", unrelated2: "", bobsCopy: "", text: "" };

  const similar = async (assetId: string, token?: string, query = "") =>
    fetch(`${app.url}/v1/assets/${assetId}/similar${query}`, { headers: token ? bearer(token) : {} });
  const ids = (items: SimilarItem[]) => items.map((i) => i.asset.id);

  async function put(token: string, data: Uint8Array, query: string): Promise<string> {
    const res = await upload(app, token, data, { "content-type": "image/jpeg" }, query);
    expect(res.status, query).toBe(201);
    return res.body.id as string;
  }

  beforeAll(async () => {
    app = await startApp();
    alice = await app.token("alice");
    bob = await app.token("bob");
    const kite = fixture("photos/olympus-e-m1-kite-2560x1600.jpg");
    const copy = await sharp(kite).resize(1280).jpeg({ quality: 60 }).toBuffer();
    const bobsCopy = await sharp(kite).resize(800).jpeg({ quality: 75 }).toBuffer();
    id.original = await put(alice, kite, "?filename=kite.jpg&public=true");
    id.copy = await put(alice, copy, "?filename=kite-small.jpg");
    id.unrelated1 = await put(alice, fixture("photos/canon-eos-400d-storm-1920x1280.jpg"), "?filename=storm.jpg");
    id.unrelated2 = await put(alice, fixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg"), "?filename=water.jpg");
    id.bobsCopy = await put(bob, bobsCopy, "?filename=mine.jpg");
    id.text = (await upload(app, alice, Buffer.from("not a picture"), { "content-type": "text/plain" }, "?filename=a.txt")).body.id;
    for (const [assetId, token] of [[id.original, alice], [id.copy, alice], [id.unrelated1, alice], [id.unrelated2, alice],
      [id.bobsCopy, bob], [id.text, alice]] as const) {
      expect((await settled(app, token, assetId, 30_000)).status).toBe("ready");
    }
  });
  afterAll(() => app?.close());

  it("puts blurhash, dominant colour and perceptual hash in the manifest", async () => {
    const manifest = await json(await fetch(`${app.url}/v1/assets/${id.original}`, { headers: bearer(alice) }));
    expect(isBlurhashValid(manifest.meta.blurhash).result).toBe(true);
    expect(manifest.meta.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    expect(manifest.meta.phash).toMatch(/^[0-9a-f]{16}$/);
  });

  it("finds the resized, re-encoded copy and not the unrelated photos", async () => {
    const res = await similar(id.original, alice);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(ids(body.items)).toEqual([id.copy]);
    const [match] = body.items as SimilarItem[];
    expect(match!.distance).toBeLessThanOrEqual(6);
    // Each item carries the asset's manifest.
    expect(match!.asset).toMatchObject({ id: id.copy, status: "ready", urls: { original: `${app.url}/a/${id.copy}` } });
    expect(match!.asset.meta.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(body.reason).toBeUndefined();

    // Even the widest search ranks the copy first; the unrelated photos are far away.
    const wide = await json(await similar(id.original, alice, "?maxDistance=64&limit=100"));
    expect(ids(wide.items)[0]).toBe(id.copy);
    for (const item of wide.items as SimilarItem[]) {
      if (item.asset.id === id.unrelated1 || item.asset.id === id.unrelated2) expect(item.distance).toBeGreaterThan(16);
    }
    expect(ids(wide.items)).toEqual(expect.arrayContaining([id.unrelated1, id.unrelated2]));
  });

  it("shows each caller only the assets they may read", async () => {
    // bob may read alice's public original, but not her private copy; he sees his own.
    const bobs = await json(await similar(id.original, bob));
    expect(ids(bobs.items)).toEqual([id.bobsCopy]);
    expect(ids((await json(await similar(id.original, alice))).items)).not.toContain(id.bobsCopy);
    // Anonymous callers see public matches only: none here.
    const anonymous = await similar(id.original);
    expect(anonymous.status).toBe(200);
    expect((await json(anonymous)).items).toEqual([]);
    // Admins see everything.
    expect(ids((await json(await similar(id.original, app.admin))).items).sort()).toEqual([id.copy, id.bobsCopy].sort());
  });

  it("is 404 for an asset the caller may not read, as everywhere", async () => {
    for (const token of [bob, undefined]) {
      const res = await similar(id.copy, token);
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe("not_found");
    }
    expect((await similar("01ARZ3NDEKTSV4RRFFQ69G5FAV", alice)).status).toBe(404);
    expect((await similar("nope", alice)).status).toBe(404);
  });

  it("answers an asset without a perceptual hash with no items and the reason", async () => {
    const body = await json(await similar(id.text, alice));
    expect(body.items).toEqual([]);
    expect(body.reason).toMatchObject({ code: "no_phash" });
  });

  it("rejects bad parameters with 400 naming them", async () => {
    for (const [query, parameter] of [
      ["?maxDistance=65", "maxDistance"], ["?maxDistance=-1", "maxDistance"], ["?maxDistance=abc", "maxDistance"],
      ["?maxDistance=1.5", "maxDistance"], ["?limit=0", "limit"], ["?limit=101", "limit"], ["?limit=", "limit"],
      ["?limit=1&limit=2", "limit"], ["?distance=3", "distance"],
    ] as const) {
      const res = await similar(id.original, alice, query);
      expect(res.status, query).toBe(400);
      expect((await json(res)).error, query).toMatchObject({ code: "invalid_parameter", parameter });
    }
    expect((await similar(id.original, alice, "?maxDistance=0&limit=100")).status).toBe(200);
    expect((await similar(id.original, alice, "?maxDistance=64&limit=1")).status).toBe(200);
  });

  it("limits the number of items", async () => {
    const body = await json(await similar(id.original, app.admin, "?maxDistance=64&limit=2"));
    expect(body.items).toHaveLength(2);
  });
});
