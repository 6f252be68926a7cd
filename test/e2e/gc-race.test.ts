import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, sha256, startApp, type TestApp } from "../helpers/app.js";

/**
 * gc decides from the database, in transactions, so it stays correct while the same
 * content is deleted and uploaded again around it (DESIGN §10 "Operations"). Each round
 * runs three things at once on one of a few contents: a purge of an asset holding it, a
 * trash (soft delete) of another, a new upload of the same bytes, and a gc pass with no
 * grace period. Afterwards every blob's refcount equals the assets that still hold it
 * (live or in the trash), and every live asset reads back byte-exact.
 */

const ROUNDS = 200;
const CONTENTS = 4;

describe(`gc racing deletes and re-uploads of the same content (${BACKEND})`, () => {
  let app: TestApp;
  let owner: string;

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("racer");
  });
  afterAll(() => app?.close());

  let conflicts = 0;
  /**
   * With no grace period, gc's orphan scan may meet an upload's bytes before their row is
   * written; the database fences that upload, which is refused with `409 state_conflict`
   * ("upload it again") and stores nothing, and the client sends it again. (The default
   * grace period keeps gc away from uploads in flight altogether.)
   */
  const put = async (body: Buffer): Promise<string> => {
    for (;;) {
      const res = await fetch(`${app.url}/v1/assets?filename=c.bin`, {
        method: "POST", body, headers: { ...bearer(owner), "content-type": "application/octet-stream" },
      });
      const answer = await json(res);
      if (res.status === 409 && answer.error?.code === "state_conflict") {
        conflicts++;
        continue;
      }
      expect(res.status, JSON.stringify(answer)).toBe(201);
      return answer.id as string;
    }
  };
  const remove = async (id: string, purge: boolean) => {
    const res = await fetch(`${app.url}/v1/assets/${id}${purge ? "?purge=true" : ""}`, { method: "DELETE", headers: bearer(owner) });
    expect(res.status).toBe(204);
  };
  const gc = async () => {
    const res = await fetch(`${app.url}/v1/admin/gc`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
    return json(res);
  };

  it(`keeps exact refcounts and byte-exact assets over ${ROUNDS} rounds`, async () => {
    const contents = Array.from({ length: CONTENTS }, () => randomBytes(64 * 1024));
    // Per content: the ids of assets that hold it (live) and those in the trash.
    const live = contents.map(() => [] as string[]);
    const trashed = contents.map(() => [] as string[]);
    for (const [i, body] of contents.entries()) live[i]!.push(await put(body), await put(body));

    let collected = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const i = round % CONTENTS;
      const holders = live[i]!;
      // Keep at most one holder before the round, so the purge can take the refcount to 0.
      while (holders.length > 1) await remove(holders.shift()!, true);
      // Earlier rounds' trashed assets are purged too (from the trash), else they keep the content.
      while (trashed[i]!.length > 0) await remove(trashed[i]!.shift()!, true);
      const victim = holders.shift();
      // Random starts within a few milliseconds, so the rounds cover many interleavings.
      const after = <T>(work: () => Promise<T>) => new Promise((r) => setTimeout(r, Math.random() * 12)).then(work);
      // Every other round the purge lands first, so gc finds the content unreferenced and
      // collects it while the same bytes are being uploaded again.
      const removal = victim === undefined ? Promise.resolve() : round % 2 === 0 ? remove(victim, round % 3 !== 0) : after(() => remove(victim, round % 3 !== 0));
      if (round % 2 === 0) await removal;
      const [, uploaded, report] = await Promise.all([
        removal,
        after(() => put(contents[i]!)),
        after(gc),
      ]);
      if (victim !== undefined && round % 3 === 0) trashed[i]!.push(victim);
      holders.push(uploaded);
      collected += (report as { blobs: { removed: number } }).blobs.removed;
    }
    // The races were real: gc collected content that was uploaded again in later rounds.
    expect(collected).toBeGreaterThan(0);
    console.info(`[gc-race] ${ROUNDS} rounds: ${collected} collections of re-uploaded content, ${conflicts} uploads answered 409 and sent again`);
    await gc();

    for (const [i, body] of contents.entries()) {
      const blob = await app.runtime.repos.blobs.get(sha256(body));
      expect(blob?.state, `content ${i}`).toBe("live");
      expect(blob?.refcount, `content ${i}`).toBe(live[i]!.length + trashed[i]!.length);
      for (const id of live[i]!) {
        const res = await fetch(`${app.url}/a/${id}`, { headers: bearer(owner) });
        expect(res.status).toBe(200);
        expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(body));
      }
    }
    // A trashed asset restores with its bytes: its reference kept the content alive.
    const restored = trashed.findIndex((ids) => ids.length > 0);
    const id = trashed[restored]![0]!;
    expect((await fetch(`${app.url}/v1/assets/${id}/restore`, { method: "POST", headers: bearer(owner) })).status).toBe(200);
    const res = await fetch(`${app.url}/a/${id}`, { headers: bearer(owner) });
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(contents[restored]!));
  }, 300_000);
});
