import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Virus scanning with a real clamd (scripts/clamd-test-server.sh: a local signature
 * database with the EICAR test signature). Skipped, with the reason, when none answers.
 */
const CLAMD = process.env.ASSETD_TEST_CLAMD ?? "127.0.0.1:3310";

async function clamdAnswers(): Promise<string | undefined> {
  const [host, port] = [CLAMD.slice(0, CLAMD.lastIndexOf(":")), Number(CLAMD.slice(CLAMD.lastIndexOf(":") + 1))];
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (reason?: string) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(2000, () => done(`clamd at ${CLAMD} did not answer`));
    socket.once("error", (error) => done(`clamd at ${CLAMD} is not reachable (${error.message}); run scripts/clamd-test-server.sh start`));
    socket.connect(port, host, () => socket.end("zPING\0"));
    socket.on("data", (data) => done(data.toString().startsWith("PONG") ? undefined : `unexpected clamd reply ${data}`));
  });
}

const skip = await clamdAnswers();
if (skip) console.warn(`[scan] skipping: ${skip}`);

describe.skipIf(Boolean(skip))("virus scanning", () => {
  let app: TestApp;
  let owner: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_CLAMD: CLAMD }, { api: true, worker: false });
    owner = await app.token("sam");
  });
  afterAll(() => app.close());

  it("withholds unscanned content, quarantines EICAR and serves clean files once scanned", async () => {
    const eicar = await upload(app, owner, fixture("hostile/eicar.txt"));
    const photo = await upload(app, owner, fixture("photos/canon-eos-400d-storm-1920x1280.jpg"), { "content-type": "image/jpeg" });
    expect(eicar.body.status).toBe("verified");
    // Nothing is served before the scan.
    for (const url of [`/a/${photo.body.id}`, `/a/${photo.body.id}?w=100`]) {
      const res = await fetch(`${app.url}${url}`, { headers: bearer(owner) });
      expect(res.status, url).toBe(409);
    }

    app.runtime.startWorker();
    const infected = await settled(app, owner, eicar.body.id);
    expect(infected.status).toBe("quarantined");
    expect(infected.failure.code).toBe("infected");
    expect(infected.failure.message).toMatch(/Eicar-Test-Signature/);
    const blocked = await fetch(`${app.url}/a/${eicar.body.id}`, { headers: bearer(owner) });
    expect(blocked.status).toBe(451);
    expect((await json(blocked)).error.code).toBe("quarantined");
    // Still visible to admins, in the manifest and its history.
    expect((await json(await fetch(`${app.url}/v1/assets/${eicar.body.id}`, { headers: bearer(app.admin) }))).status).toBe("quarantined");
    const events = await json(await fetch(`${app.url}/v1/assets/${eicar.body.id}/events`, { headers: bearer(owner) }));
    expect(events.items.at(-1)).toMatchObject({ from: "verified", to: "quarantined" });

    const clean = await settled(app, owner, photo.body.id);
    expect(clean).toMatchObject({ status: "ready", meta: { scan: "clean", width: 1920 } });
    expect((await fetch(`${app.url}/a/${photo.body.id}?w=100`, { headers: bearer(owner) })).status).toBe(200);
  });
});

describe("an unreachable virus scanner", () => {
  let app: TestApp;

  beforeAll(async () => {
    // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
    app = await startApp({ ASSETD_CLAMD: "127.0.0.1:9", ASSETD_JOB_MAX_ATTEMPTS: "2" });
  });
  afterAll(() => app.close());

  it("retries, dead-letters the scan and keeps the asset verified and unserved", async () => {
    const owner = await app.token("uma");
    const res = await upload(app, owner, fixture("formats/lossy-freshflower-800x602.webp"), { "content-type": "image/webp" });
    const deadline = Date.now() + 20_000;
    let dead: Array<{ name: string; payload: { assetId: string }; lastError: string }> = [];
    while (Date.now() < deadline && !dead.length) {
      await new Promise((r) => setTimeout(r, 100));
      dead = (await json(await fetch(`${app.url}/v1/admin/jobs?state=dead`, { headers: bearer(app.admin) }))).items;
    }
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ name: "scan", payload: { assetId: res.body.id } });
    const manifest = await json(await fetch(`${app.url}/v1/assets/${res.body.id}`, { headers: bearer(owner) }));
    expect(manifest.status).toBe("verified");
    expect(manifest.meta).toMatchObject({ scan: "unavailable", scanAttempts: 2 });
    expect((await fetch(`${app.url}/a/${res.body.id}`, { headers: bearer(owner) })).status).toBe(409);
  });
});
