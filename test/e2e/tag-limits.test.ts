import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const manyTags = (n: number, prefix = "k") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, "v"]));

describe("tag caps and request body limits", () => {
  let app: TestApp;
  let alice: string;
  const photo = fixture("formats/lossy-freshflower-800x602.webp");
  const tagsQuery = (tags: Record<string, string>) => `?tags=${encodeURIComponent(JSON.stringify(tags))}`;
  const patch = (id: string, body: unknown) => fetch(`${app.url}/v1/assets/${id}`, {
    method: "PATCH", headers: { ...bearer(alice), "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const expectTagsRefused = async (res: { status: number; body: any }) => {
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_parameter");
    expect(res.body.error.parameter).toBe("tags");
  };

  beforeAll(async () => {
    app = await startApp();
    alice = await app.token("alice");
  });
  afterAll(() => app.close());

  it("refuses 65 tags and a 65-character key on a raw upload, and keeps nothing", async () => {
    await expectTagsRefused(await upload(app, alice, photo, {}, tagsQuery(manyTags(65))));
    await expectTagsRefused(await upload(app, alice, photo, {}, tagsQuery({ ["k".repeat(65)]: "v" })));
    await expectTagsRefused(await upload(app, alice, photo, {}, tagsQuery({ k: "v".repeat(1025) })));
    expect(await app.storedObjects()).toEqual([]);
    expect((await upload(app, alice, photo, {}, tagsQuery(manyTags(64)))).status).toBe(201);
  });

  it("refuses too many tags in a form upload", async () => {
    const form = new FormData();
    form.append("tags", JSON.stringify(manyTags(65)));
    form.append("file", new Blob([photo]), "flower.webp");
    const res = await fetch(`${app.url}/v1/assets`, { method: "POST", headers: bearer(alice), body: form });
    await expectTagsRefused({ status: res.status, body: await json(res) });
  });

  it("refuses too many tags when opening a direct upload session or a tus upload", async () => {
    const direct = await fetch(`${app.url}/v1/uploads`, {
      method: "POST", headers: { ...bearer(alice), "content-type": "application/json" },
      body: JSON.stringify({ filename: "a.webp", contentType: "image/webp", size: photo.length, tags: manyTags(65) }),
    });
    await expectTagsRefused({ status: direct.status, body: await json(direct) });
    const metadata = { filename: "a.webp", filetype: "image/webp", tags: JSON.stringify(manyTags(65)) };
    const tus = await fetch(`${app.url}/v1/tus`, {
      method: "POST",
      headers: {
        ...bearer(alice), "tus-resumable": "1.0.0", "upload-length": String(photo.length),
        "upload-metadata": Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(v).toString("base64")}`).join(","),
      },
    });
    await expectTagsRefused({ status: tus.status, body: await json(tus) });
  });

  it("refuses the 65th tag on PATCH, while replacing or removing one on a full asset works", async () => {
    const id = (await upload(app, alice, photo, {}, tagsQuery(manyTags(64)))).body.id;
    const added = await patch(id, { tags: { extra: "x" } });
    await expectTagsRefused({ status: added.status, body: await json(added) });
    const replaced = await patch(id, { tags: { k3: "changed" } });
    expect(replaced.status).toBe(200);
    expect((await json(replaced)).tags.k3).toBe("changed");
    const swapped = await patch(id, { tags: { k0: null, extra: "x" } });
    expect(swapped.status).toBe(200);
    expect(Object.keys((await json(swapped)).tags)).toHaveLength(64);
    const longKey = await patch(id, { tags: { ["k".repeat(65)]: "x", k1: null } });
    await expectTagsRefused({ status: longKey.status, body: await json(longKey) });
  });

  it("answers a 75k-tag PATCH with a 4xx, never a 500", async () => {
    const id = (await upload(app, alice, photo)).body.id;
    const res = await patch(id, { tags: manyTags(75_000, "") });
    expect([400, 413]).toContain(res.status);
    expect((await json(res)).error.code).toMatch(/invalid_parameter|payload_too_large/);
  });

  it("answers a 3 MB JSON body with 413", async () => {
    const id = (await upload(app, alice, photo)).body.id;
    const res = await patch(id, { filename: "a".repeat(3 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("payload_too_large");
  });

  it("takes at most 20 tag filters per listing", async () => {
    const filters = (n: number) => Array.from({ length: n }, (_, i) => `tag=${encodeURIComponent(`k${i}:v`)}`).join("&");
    expect((await fetch(`${app.url}/v1/assets?${filters(20)}`, { headers: bearer(alice) })).status).toBe(200);
    for (const n of [21, 300]) {
      const res = await fetch(`${app.url}/v1/assets?${filters(n)}`, { headers: bearer(alice) });
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error.code).toBe("invalid_parameter");
      expect(body.error.parameter).toBe("tag");
    }
  });

  it("cleans bidi overrides out of filenames in the manifest", async () => {
    const res = await upload(app, alice, photo, {}, `?filename=${encodeURIComponent("invoice\u202Efdp.webp")}`);
    expect(res.status).toBe(201);
    expect(res.body.filename).toBe("invoicefdp.webp");
    const patched = await json(await patch(res.body.id, { filename: "report\u202Egpj.webp" }));
    expect(patched.filename).toBe("reportgpj.webp");
  });
});
