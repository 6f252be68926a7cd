import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Summarises the `.cpuprofile` files `node --cpu-prof` wrote: self time per function and
 * per origin (assetd's own code, each npm package, node internals, native/GC/idle), so a
 * missed target comes with where the server's time went.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of sampled time that was not idle. */
  busyMs: number;
  topFunctions: Array<{ name: string; where: string; selfMs: number; share: number }>;
  byOrigin: Array<{ origin: string; selfMs: number; share: number }>;
}

export async function summariseProfiles(dir: string, top = 15): Promise<ProfileSummary[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile")).sort();
  } catch {
    return [];
  }
  const out: ProfileSummary[] = [];
  for (const file of files) {
    out.push(summarise(JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile, join(dir, file), top));
  }
  return out;
}

function summarise(profile: CpuProfile, file: string, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample: it belongs to sample i.
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0)));

  const fn = new Map<string, { name: string; where: string; us: number }>();
  const origin = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    if (name === "(idle)") idle += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${name}@${where}`;
    const entry = fn.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    const o = originOf(name, url);
    origin.set(o, (origin.get(o) ?? 0) + us);
  }
  const busy = total - idle;
  const share = (us: number) => (busy > 0 ? us / busy : 0);
  return {
    file,
    totalMs: total / 1000,
    busyMs: busy / 1000,
    topFunctions: [...fn.values()].filter((f) => f.name !== "(idle)").sort((a, b) => b.us - a.us).slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, share: share(f.us) })),
    byOrigin: [...origin.entries()].filter(([o]) => o !== "(idle)").sort((a, b) => b[1] - a[1])
      .map(([o, us]) => ({ origin: o, selfMs: us / 1000, share: share(us) })),
  };
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + "/node_modules/".length);
  const dist = url.indexOf("/dist/");
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, "");
}

function originOf(name: string, url: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes("/dist/src/")) {
    const area = url.slice(url.indexOf("/dist/src/") + "/dist/src/".length).split("/")[0]!;
    return `assetd src/${area.replace(/\.js$/, "")}`;
  }
  return url.replace(/^file:\/\//, "");
}

/** The summary as indented text lines for the console and RESULTS.md. */
export function formatProfile(summary: ProfileSummary, top = 12): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [`cpu profile ${summary.file}: ${(summary.busyMs / 1000).toFixed(1)} s busy of ${(summary.totalMs / 1000).toFixed(1)} s sampled`];
  lines.push("  by origin: " + summary.byOrigin.slice(0, 8).map((o) => `${o.origin} ${pct(o.share)}`).join(", "));
  lines.push("  top self time:");
  for (const f of summary.topFunctions.slice(0, top)) {
    lines.push(`    ${pct(f.share).padStart(6)}  ${f.name}${f.where ? `  (${f.where})` : ""}`);
  }
  return lines;
}
