import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { largestPhoto } from "../lib/fixtures.js";
import { launchAssetd, UNLIMITED } from "../lib/kit.js";
import { measureSides, pinningNote, requireWrk, type Side } from "../lib/pinned.js";
import type { Scenario } from "../lib/types.js";
import { pin } from "../lib/wrk.js";

const CONNECTIONS = 64;

/**
 * `GET /v1/assets/:id` with a bearer token: JWT check, one asset read with its tags, the
 * manifest as JSON. The peer is the same server's `GET /healthz` (no auth, no database):
 * the framework's floor on this machine, so the ratio is what the metadata path costs.
 * Pinned like cached-delivery: the server on one core, wrk on the other.
 */
export const metadata: Scenario = {
  name: "metadata",
  title: "metadata read path vs the same server's /healthz, pinned",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 2 : 15;
    const warmup = ctx.mode === "quick" ? 1 : 3;
    const pinning = requireWrk(ctx.log);
    const server = await launchAssetd(ctx, result, UNLIMITED);
    const photo = await largestPhoto();
    const asset = await server.upload(await readFile(photo.path), { contentType: "image/jpeg", filename: basename(photo.path), waitSeconds: 10 });
    if (pinning) pin(server.pid, pinning.server);
    const headers = { authorization: `Bearer ${server.token}` };
    const sides: Side[] = [{ name: "metadata", url: `${server.url}/v1/assets/${asset.id}`, headers, pids: () => [server.pid], server }];
    // The floor's req/s would swamp the profile of the path under study.
    if (!ctx.profile) sides.push({ name: "healthz", url: `${server.url}/healthz`, pids: () => [server.pid], server });
    const measured = await measureSides(sides, { connections: CONNECTIONS, warmup, seconds, pinning, log: ctx.log });
    const meta = measured.metadata!;
    const floor = measured.healthz;
    const perCore = (r: typeof meta) => r.perCore ?? r.rps;
    const ratio = floor ? perCore(meta) / perCore(floor) : null;
    result.rows.push(
      { metric: `GET /v1/assets/:id req/s per server core, ${CONNECTIONS} conns`, unit: "", assetd: perCore(meta), peer: floor ? perCore(floor) : null,
        peerName: "same server's /healthz", ratio, target: "≥ 0.5×", pass: ratio === null ? null : ratio >= 0.5 },
      { metric: "p99 latency ms", unit: "", assetd: meta.p99, peer: floor?.p99 ?? null, peerName: "/healthz" },
      { metric: "p50 latency ms", unit: "", assetd: meta.p50, peer: floor?.p50 ?? null, peerName: "/healthz" },
      { metric: "longest event-loop stall ms", unit: "", assetd: meta.loop?.max ?? null, peer: floor?.loop?.max ?? null, peerName: "/healthz" },
    );
    if (meta.errors + meta.non2xx > 0) {
      result.rows.push({ metric: "errors + non-2xx", unit: "", assetd: meta.errors + meta.non2xx, target: "0", pass: false });
    }
    result.notes.push(
      pinningNote(pinning, CONNECTIONS, warmup, seconds),
      `Each metadata request carries the admin bearer token (HS256 verification per request); assetd used ${meta.serverCpu?.toFixed(2)} cores ` +
        `(wrk ${meta.loadGeneratorCpu.toFixed(2)}).` + (ctx.profile ? " Profiled run: the /healthz floor is not measured." : ""),
    );
    result.details = { ...result.details, connections: CONNECTIONS, seconds, pinning, metadata: meta, ...(floor ? { healthz: floor } : {}) };
  },
};
