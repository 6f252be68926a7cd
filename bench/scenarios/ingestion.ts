import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { largeFile } from "../lib/fixtures.js";
import { launchAssetd } from "../lib/kit.js";
import { cpuMeter, rssSampler, selfCpuMeter, statusMiB } from "../lib/proc.js";
import { RAW_PIPELINE_NAME, rawPipeline } from "../lib/raw-pipeline.js";
import type { Scenario } from "../lib/types.js";

/**
 * A large generated file streamed as one raw POST, against sha256sum + a disk write of the
 * same bytes; assetd's peak RSS while doing it; a second, duplicate upload of it.
 */
export const ingestion: Scenario = {
  name: "ingestion",
  title: "streaming ingestion of a large file vs sha256sum + disk write",
  async run(ctx, result) {
    const sizeMiB = ctx.mode === "quick" ? 64 : 2048;
    const file = join(ctx.tmpDir, `large-${sizeMiB}m.bin`);
    ctx.log(`generating ${sizeMiB} MiB with make-large.sh`);
    await largeFile(sizeMiB, file);
    const bytes = (await stat(file)).size;
    const mb = bytes / 1e6;

    const server = await launchAssetd(ctx, result);
    const baselineHwm = statusMiB(server.pid, "VmHWM") ?? 0;

    const raw = () => rawPipeline(file, join(ctx.tmpDir, "raw-copy.bin"));
    const upload = async (label: string) => {
      const physicalBefore = (await server.stats()).physicalBytes;
      const rss = rssSampler(server.pid);
      const cpu = cpuMeter(() => [server.pid]);
      const client = selfCpuMeter();
      const started = performance.now();
      const res = await server.uploadPath(file, { contentType: "application/octet-stream", filename: `large-${sizeMiB}m.bin` });
      const seconds = (performance.now() - started) / 1000;
      const serverCores = cpu();
      const clientCores = client();
      const peakSampledRss = rss();
      if (res.status !== 201) throw new Error(`${label} upload -> ${res.status} ${res.body.toString().slice(0, 300)}`);
      const manifest = JSON.parse(res.body.toString()) as { id: string; sha256: string; size: number };
      const physicalAdded = (await server.stats()).physicalBytes - physicalBefore;
      const figures = {
        mbPerSecond: mb / seconds, seconds, sha256: manifest.sha256, size: manifest.size, physicalAdded,
        peakSampledRssMiB: peakSampledRss, vmHwmMiB: statusMiB(server.pid, "VmHWM") ?? NaN, serverCores, clientCores,
      };
      ctx.log(`${label}: ${figures.mbPerSecond.toFixed(0)} MB/s, VmHWM ${figures.vmHwmMiB.toFixed(0)} MiB, ` +
        `server ${serverCores.toFixed(2)} cores, client ${clientCores.toFixed(2)} cores, stored +${physicalAdded} bytes`);
      return figures;
    };

    // raw, upload, raw, duplicate upload: both sides read a file already in the page cache.
    const raw1 = await raw();
    ctx.log(`raw pipeline: ${raw1.mbPerSecond.toFixed(0)} MB/s`);
    const first = await upload("upload");
    const raw2 = await raw();
    ctx.log(`raw pipeline: ${raw2.mbPerSecond.toFixed(0)} MB/s`);
    const duplicate = await upload("duplicate upload");
    await rm(file, { force: true });

    const rawMbPerSecond = (raw1.mbPerSecond + raw2.mbPerSecond) / 2;
    const ratio = first.mbPerSecond / rawMbPerSecond;
    const hwm = Math.max(first.vmHwmMiB, duplicate.vmHwmMiB);
    result.rows.push(
      { metric: `MB/s, ${sizeMiB} MiB streamed raw POST`, unit: "", assetd: first.mbPerSecond, peer: rawMbPerSecond,
        peerName: RAW_PIPELINE_NAME, ratio, target: "≥ 0.6×", pass: ratio >= 0.6 },
      { metric: "peak RSS MiB (VmHWM of the server process)", unit: "", assetd: hwm, target: "< 200 MB", pass: hwm < 200 },
      { metric: "sha256 matches sha256sum", unit: "", assetd: first.sha256 === raw1.sha256 ? 1 : 0, target: "1 (yes)", pass: first.sha256 === raw1.sha256 },
      { metric: "duplicate upload: stored bytes added", unit: "", assetd: duplicate.physicalAdded, target: "0", pass: duplicate.physicalAdded === 0 },
      { metric: "duplicate upload MB/s", unit: "", assetd: duplicate.mbPerSecond, peer: rawMbPerSecond, peerName: "raw pipeline", ratio: duplicate.mbPerSecond / rawMbPerSecond },
    );
    result.notes.push(
      `${sizeMiB} MiB (${bytes} bytes) from shared/fixtures/make-large.sh in ${ctx.tmpDir.replace(/\/[^/]+$/, "")}; assetd's data directory on the same disk. ` +
        "Run order raw, upload, raw, duplicate upload; the raw figure is the mean of its two runs. MB = 10^6 bytes.",
      `Raw pipeline: \`tee copy < file | sha256sum; sync copy\` (bash). assetd: one \`POST /v1/assets\` with the file streamed from disk ` +
        "(Content-Length, application/octet-stream) by a node:http client in the harness process, timed until the 201.",
      `Peak RSS is /proc/<pid>/status VmHWM of the assetd node process (the high-water mark since start; ${baselineHwm.toFixed(0)} MiB ` +
        `before the first upload), with VmRSS also sampled every 50 ms (peak ${Math.max(first.peakSampledRssMiB, duplicate.peakSampledRssMiB).toFixed(0)} MiB).`,
      `CPU during the first upload: assetd ${first.serverCores.toFixed(2)} cores, the uploading client ${first.clientCores.toFixed(2)} cores (same machine).`,
    );
    result.details = { ...result.details, sizeMiB, bytes, raw: [raw1, raw2], upload: first, duplicate, baselineHwmMiB: baselineHwm };
  },
};
