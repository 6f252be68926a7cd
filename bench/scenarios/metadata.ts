import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { largestPhoto } from "../lib/fixtures.js";
import { launchAssetd } from "../lib/kit.js";
import { describeLoad, runLoad } from "../lib/load.js";
import type { Scenario } from "../lib/types.js";

const CONNECTIONS = 64;

/**
 * `GET /v1/assets/:id` with a bearer token: JWT check, one asset read with its tags, the
 * manifest as JSON. The peer is the same server's `GET /healthz` (no auth, no database):
 * the framework's floor on this machine, so the ratio is what the metadata path costs.
 */
export const metadata: Scenario = {
  name: "metadata",
  title: "metadata read path",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 3 : 20;
    const warmup = ctx.mode === "quick" ? 1 : 3;
    const server = await launchAssetd(ctx, result);
    const photo = await largestPhoto();
    const asset = await server.upload(await readFile(photo.path), { contentType: "image/jpeg", filename: basename(photo.path), waitSeconds: 10 });
    const headers = { authorization: `Bearer ${server.token}` };
    const url = `${server.url}/v1/assets/${asset.id}`;
    const floorUrl = `${server.url}/healthz`;

    await runLoad({ url, connections: CONNECTIONS, seconds: warmup, headers });
    const meta = await runLoad({ url, connections: CONNECTIONS, seconds, headers, serverPids: () => [server.pid] });
    ctx.log(`GET /v1/assets/:id: ${describeLoad(meta)}`);
    if (ctx.profile) {
      // The floor's 30,000+ req/s would swamp the profile of the path under study.
      result.rows.push({ metric: `GET /v1/assets/:id req/s, ${CONNECTIONS} conns`, unit: "", assetd: meta.rps },
        { metric: "p99 latency ms", unit: "", assetd: meta.p99 });
      result.notes.push("Profiled run: the /healthz floor is not measured, so the profile shows the metadata path alone.");
      result.details = { ...result.details, connections: CONNECTIONS, seconds, metadata: meta };
      return;
    }
    await runLoad({ url: floorUrl, connections: CONNECTIONS, seconds: warmup });
    const floor = await runLoad({ url: floorUrl, connections: CONNECTIONS, seconds, serverPids: () => [server.pid] });
    ctx.log(`GET /healthz: ${describeLoad(floor)}`);

    result.rows.push(
      { metric: `GET /v1/assets/:id req/s, ${CONNECTIONS} conns`, unit: "", assetd: meta.rps, peer: floor.rps, peerName: "same server's /healthz",
        ratio: meta.rps / floor.rps },
      { metric: "p99 latency ms", unit: "", assetd: meta.p99, peer: floor.p99, peerName: "/healthz" },
      { metric: "p50 latency ms", unit: "", assetd: meta.p50, peer: floor.p50, peerName: "/healthz" },
    );
    if (meta.errors + meta.non2xx > 0) {
      result.rows.push({ metric: "errors + non-2xx", unit: "", assetd: meta.errors + meta.non2xx, target: "0", pass: false });
    }
    result.notes.push(
      `${CONNECTIONS} keep-alive connections for ${seconds} s after a ${warmup} s warm-up, autocannon in the harness process ` +
        `(assetd ${meta.serverCpu?.toFixed(2)} cores, autocannon ${meta.loadGeneratorCpu.toFixed(2)} cores). Each request carries the admin ` +
        "bearer token (HS256 verification per request). No DESIGN target; the /healthz floor shows the cost of auth + database + JSON.",
    );
    result.details = { ...result.details, connections: CONNECTIONS, seconds, metadata: meta, healthz: floor };
  },
};
