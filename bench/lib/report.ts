import type { MachineInfo } from "./machine.js";
import type { Mode, Row, ScenarioResult } from "./types.js";

/** The results table (console and Markdown) and the JSON document. */

export function formatNumber(value: number | null | undefined, unit = ""): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : 2;
  const text = value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return `${ratio >= 100 ? Math.round(ratio) : ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

function verdict(row: Row): string {
  return row.pass === true ? "pass" : row.pass === false ? "FAIL" : "—";
}

const HEAD = ["scenario", "metric", "assetd", "peer", "ratio", "target", "pass/fail"];

function cells(result: ScenarioResult, row: Row): string[] {
  const metric = row.peerName ? `${row.metric} (peer: ${row.peerName})` : row.metric;
  return [result.name, metric, formatNumber(row.assetd, row.unit), formatNumber(row.peer, row.unit), formatRatio(row.ratio),
    row.target ?? "—", verdict(row)];
}

function tableRows(results: ScenarioResult[]): string[][] {
  const rows: string[][] = [];
  for (const result of results) {
    if (result.status !== "ok") {
      rows.push([result.name, `${result.status}: ${result.reason ?? ""}`, "", "", "", "", result.status === "error" ? "ERROR" : "skipped"]);
      continue;
    }
    for (const row of result.rows) rows.push(cells(result, row));
  }
  return rows;
}

export function consoleTable(results: ScenarioResult[]): string {
  const rows = tableRows(results);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = new Set([2, 3, 4]);
  const line = (r: string[]) => r.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ");
  return [line(HEAD), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

export function markdownTable(results: ScenarioResult[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${HEAD.join(" | ")} |`,
    `| ${HEAD.map((_, i) => ([2, 3, 4].includes(i) ? "---:" : "---")).join(" | ")} |`,
    ...tableRows(results).map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

export function machineLines(machine: MachineInfo): string[] {
  return [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.os}; kernel ${machine.kernel}`,
    `node ${machine.node}; assetd ${machine.assetd.version}${machine.assetd.commit ? ` (${machine.assetd.commit})` : ""}, ` +
      `sharp ${machine.assetd.sharp} / libvips ${machine.assetd.vips}, sharp threads per operation ${machine.assetd.sharpConcurrency}, ` +
      `libuv threadpool ${machine.uvThreadpool}`,
    `ipx ${machine.ipx.version} (sharp ${machine.ipx.sharp} / libvips ${machine.ipx.vips}); nginx ${machine.nginx}; autocannon ${machine.autocannon}; ${machine.wrk}`,
    `load at start: ${machine.uptime}`,
    "cached-delivery and metadata pin each server to CPU 0 and wrk to CPU 1; the other scenarios' clients run in the harness process on the same cores",
  ];
}

export function markdownDocument(results: ScenarioResult[], machine: MachineInfo, mode: Mode, date: string): string {
  const out: string[] = [];
  out.push(`# assetd benchmark results`, "");
  out.push(`Run: ${date}, mode \`${mode}\` (\`npm run bench${mode === "quick" ? " -- --quick" : ""}\`).`, "");
  out.push("## Machine", "");
  for (const l of machineLines(machine)) out.push(`- ${l}`);
  out.push("", "## Results", "", markdownTable(results), "");
  out.push("Ratios are assetd ÷ peer, measured in the same run on the same machine; targets are DESIGN §9's. " +
    "Targets are reported, not asserted.", "");
  out.push("## Method, per scenario", "");
  for (const r of results) {
    out.push(`### ${r.name} — ${r.title}`, "");
    if (r.status !== "ok") out.push(`${r.status}: ${r.reason ?? ""}`, "");
    for (const n of r.notes) out.push(`- ${n}`);
    if (r.profile.length) out.push("", "```", ...r.profile, "```");
    out.push("");
  }
  return out.join("\n");
}

export function jsonDocument(results: ScenarioResult[], machine: MachineInfo, mode: Mode, date: string): unknown {
  return {
    date,
    mode,
    machine,
    scenarios: results.map((r) => ({
      name: r.name,
      title: r.title,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      seconds: Number(r.seconds.toFixed(1)),
      machine: { cores: machine.cores, memoryGiB: machine.memoryGiB },
      rows: r.rows.map((row) => ({ ...row, pass: row.pass ?? null })),
      notes: r.notes,
      ...(r.profile.length ? { profile: r.profile } : {}),
      details: r.details,
    })),
  };
}
