import { readFile } from "node:fs/promises";
import { Agent } from "node:http";
import { basename } from "node:path";
import { attackLoop, describeTally, getOutcome, seededRandom, type AttackResult, type Tally } from "./abuse.js";
import type { AssetdServer } from "./assetd.js";
import { largestPhoto } from "./fixtures.js";
import { hostilePdfFile } from "./hostile-pdf.js";
import { slowReaders, slowUploads, type SlowResult } from "./slow-clients.js";
import type { ScenarioContext } from "./types.js";

/**
 * The attacks of the abuse scenario (issue 13's findings), each aimed by an anonymous
 * client at one public asset that its owner uploaded first.
 */

export interface AttackOutcome {
  /** Requests/connections the server answered, by HTTP status. */
  statuses: Tally;
  /** How they ended when that differs from the statuses (connections held, reset, cut off). */
  ends?: Tally;
  /** One line for the notes: what was sent and what came back. */
  summary: string;
  details: Record<string, unknown>;
}

export interface ArmedAttack {
  run(durationMs: number): Promise<AttackOutcome>;
}

export interface Attack {
  name: string;
  /** Uploads the target asset as its owner and returns the attack, ready to start. */
  prepare(server: AssetdServer, ctx: ScenarioContext): Promise<ArmedAttack>;
}

const portOf = (server: AssetdServer) => Number(new URL(server.url).port);

async function publicPhoto(server: AssetdServer) {
  const photo = await largestPhoto();
  const asset = await server.upload(await readFile(photo.path), {
    contentType: "image/jpeg", filename: basename(photo.path), public: true, waitSeconds: 30,
  });
  return { id: asset.id, name: basename(photo.path) };
}

/** The closed-loop attacks: every answer is an outcome, in-flight requests are cut at the deadline. */
async function flood(lanes: number, durationMs: number, url: (i: number) => string): Promise<AttackResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: lanes });
  try {
    return await attackLoop(lanes, durationMs, (i, signal) => getOutcome(url(i), { agent, signal }));
  } finally {
    agent.destroy();
  }
}

const loopDetails = (r: AttackResult) => ({ requests: r.started, outcomes: r.tally, seconds: r.seconds, bytesReceived: r.bytesReceived });

const splitLoop = (r: AttackResult): Pick<AttackOutcome, "statuses" | "ends"> => {
  const statuses: Tally = {};
  const ends: Tally = {};
  for (const [k, n] of Object.entries(r.tally)) (/^\d{3}$/.test(k) ? statuses : ends)[k] = n;
  return { statuses, ...(Object.keys(ends).length ? { ends } : {}) };
};

/** ~1 million path operators on one page: a render walks them all on whatever thread runs pdfjs. */
const PDF_SEGMENTS = 333_334;
const PDF_LANES = 3;

export const pdfRender: Attack = {
  name: "pdf-render",
  async prepare(server, ctx) {
    const pdf = await hostilePdfFile(ctx.outDir, PDF_SEGMENTS);
    const asset = await server.upload(await readFile(pdf.path), {
      contentType: "application/pdf", filename: "hostile.pdf", public: true, waitSeconds: 30,
    });
    ctx.log(`pdf-render: ${pdf.bytes} byte PDF, ${pdf.operators.toLocaleString("en-US")} path operators on one page (${asset.status})`);
    return {
      async run(durationMs) {
        const r = await flood(PDF_LANES, durationMs, (i) => `${server.url}/a/${asset.id}?page=1&w=${600 + i}`);
        return {
          ...splitLoop(r),
          summary: `${PDF_LANES} concurrent anonymous \`GET /a/<pdf>?page=1&w=<600+i>\` (a new width each time) on the ` +
            `${Math.round(pdf.bytes / 1024)} KiB hostile PDF (${pdf.operators.toLocaleString("en-US")} path operators): ${describeTally(r.tally)}`,
          details: { pdf: { bytes: pdf.bytes, operators: pdf.operators, status: asset.status }, lanes: PDF_LANES, ...loopDetails(r) },
        };
      },
    };
  },
};

const FLOOD_LANES = 4;

export const variantFlood: Attack = {
  name: "variant-flood",
  async prepare(server) {
    const photo = await publicPhoto(server);
    return {
      async run(durationMs) {
        const random = seededRandom(13);
        const seen = new Set<string>();
        const recipe = () => {
          for (;;) {
            const w = 100 + Math.floor(random() * 8093);
            const h = 100 + Math.floor(random() * 8093);
            const key = `w=${w}&h=${h}`;
            if (seen.has(key)) continue;
            seen.add(key);
            return key;
          }
        };
        const r = await flood(FLOOD_LANES, durationMs, () => `${server.url}/a/${photo.id}?${recipe()}&enlarge=1&fmt=png`);
        return {
          ...splitLoop(r),
          summary: `${FLOOD_LANES} concurrent anonymous requests for distinct recipes \`w=<100..8192>&h=<100..8192>&enlarge=1&fmt=png\` ` +
            `of the public ${photo.name}: ${describeTally(r.tally)}, ${(r.bytesReceived / 2 ** 20).toFixed(0)} MiB received`,
          details: { photo: photo.name, lanes: FLOOD_LANES, recipes: seen.size, ...loopDetails(r) },
        };
      },
    };
  },
};

const READERS = 20;
const LARGE_VARIANT = "w=4096&enlarge=1&fmt=png";

export const slowReadersAttack: Attack = {
  name: "slow-readers",
  async prepare(server, ctx) {
    const photo = await publicPhoto(server);
    const path = `/a/${photo.id}?${LARGE_VARIANT}`;
    // Rendered once beforehand: the attack is on delivering a cached large variant.
    const first = await getOutcome(`${server.url}${path}`, { agent: false, signal: AbortSignal.timeout(120_000) });
    ctx.log(`slow-readers: ${path} -> ${first.outcome}, ${(first.bytes / 2 ** 20).toFixed(1)} MiB in ${first.ms.toFixed(0)} ms`);
    return {
      async run(durationMs) {
        const r: SlowResult = await slowReaders(portOf(server), path, READERS, durationMs);
        return {
          statuses: r.statuses, ends: r.tally,
          summary: `${READERS} anonymous connections each reading the cached \`${LARGE_VARIANT}\` of ${photo.name} ` +
            `(${(first.bytes / 2 ** 20).toFixed(1)} MiB, first render ${first.outcome}) one socket chunk per second: answered ` +
            `${describeTally(r.statuses)}; ends ${describeTally(r.tally)}; ${(r.bytesMoved / 2 ** 20).toFixed(1)} MiB read in all`,
          details: { photo: photo.name, variant: LARGE_VARIANT, variantBytes: first.bytes, firstRender: first, readers: READERS, ...r },
        };
      },
    };
  },
};

const LORIS_PER_SIDE = 25;
const LORIS_LENGTH = 10 * 2 ** 20;

export const slowloris: Attack = {
  name: "slowloris",
  async prepare(server) {
    return {
      async run(durationMs) {
        const options = { path: "/v1/assets?filename=slow.bin", contentLength: LORIS_LENGTH };
        const [anonymous, owner] = await Promise.all([
          slowUploads(portOf(server), LORIS_PER_SIDE, durationMs, options),
          slowUploads(portOf(server), LORIS_PER_SIDE, durationMs, { ...options, token: server.token }),
        ]);
        const prefixed = (label: string, t: Tally) => Object.fromEntries(Object.entries(t).map(([k, n]) => [`${label} ${k}`, n]));
        return {
          statuses: { ...prefixed("anon", anonymous.statuses), ...prefixed("owner", owner.statuses) },
          ends: { ...prefixed("anon", anonymous.tally), ...prefixed("owner", owner.tally) },
          summary: `${LORIS_PER_SIDE} anonymous and ${LORIS_PER_SIDE} owner-token \`POST /v1/assets\` announcing ` +
            `Content-Length ${LORIS_LENGTH / 2 ** 20} MiB, then 10 bytes every 100 ms: anonymous answered ${describeTally(anonymous.statuses)}, ` +
            `ended ${describeTally(anonymous.tally)}; owner answered ${describeTally(owner.statuses)}, ended ${describeTally(owner.tally)}`,
          details: { perSide: LORIS_PER_SIDE, contentLength: LORIS_LENGTH, anonymous, owner },
        };
      },
    };
  },
};

export const ATTACKS: readonly Attack[] = [pdfRender, variantFlood, slowReadersAttack, slowloris];
