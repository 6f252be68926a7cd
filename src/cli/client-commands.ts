import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { parseByteSize } from "../config/index.js";

/**
 * Commands that talk to a running assetd over HTTP, like any other client:
 * ASSETD_URL (default http://localhost:8080) and ASSETD_TOKEN.
 */
function endpoint(): { base: string; headers: Record<string, string> } {
  const base = (process.env.ASSETD_URL ?? "http://localhost:8080").replace(/\/+$/, "");
  const token = process.env.ASSETD_TOKEN;
  return { base, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

async function call(path: string, init: RequestInit & { duplex?: "half" } = {}): Promise<Response> {
  const { base, headers } = endpoint();
  const response = await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
  if (!response.ok && response.status !== 304) {
    const text = await response.text();
    let message = text;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error) message = `${body.error.code}: ${body.error.message}`;
    } catch {
      // not JSON: show the text as it is
    }
    throw new Error(`${response.status} ${message}`);
  }
  return response;
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

export function registerClientCommands(program: Command): void {
  program.command("put")
    .description("upload files (streamed; prints each manifest)")
    .argument("<files...>")
    .option("--tag <k=v...>", "tags to set")
    .option("--public", "make the assets publicly readable", false)
    .option("--wait <seconds>", "wait for metadata extraction", "0")
    .action(async (files: string[], options: { tag?: string[]; public: boolean; wait: string }) => {
      const tags: Record<string, string> = {};
      for (const pair of options.tag ?? []) {
        const eq = pair.indexOf("=");
        if (eq < 1) throw new Error(`--tag expects key=value, got '${pair}'`);
        tags[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      for (const file of files) {
        const { size } = await stat(file);
        const query = new URLSearchParams({ filename: basename(file), public: String(options.public) });
        if (Object.keys(tags).length) query.set("tags", JSON.stringify(tags));
        const started = Date.now();
        const response = await call(`/v1/assets?${query}`, {
          method: "POST",
          body: Readable.toWeb(createReadStream(file)) as ReadableStream,
          duplex: "half",
          headers: {
            "content-length": String(size),
            ...(Number(options.wait) > 0 ? { prefer: `wait=${Number(options.wait)}` } : {}),
          },
        });
        const manifest = (await response.json()) as { id: string; status: string };
        const seconds = (Date.now() - started) / 1000;
        process.stderr.write(`${file}: ${manifest.id} ${manifest.status} (${(size / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s)\n`);
        print(manifest);
      }
    });

  program.command("get")
    .description("download an original, or a variant with transform options")
    .argument("<id>")
    .option("-o, --output <file>", "write to a file instead of standard output")
    .option("-t, --transform <query>", "transform parameters, e.g. 'w=300&fmt=webp'")
    .action(async (id: string, options: { output?: string; transform?: string }) => {
      const query = options.transform ? `?${new URLSearchParams(options.transform)}` : "";
      const response = await call(`/a/${encodeURIComponent(id)}${query}`);
      const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
      await pipeline(body, options.output ? createWriteStream(options.output) : process.stdout);
    });

  program.command("ls")
    .description("list assets (newest first)")
    .option("--status <status>").option("--type <type>").option("--tag <k:v...>").option("-q, --query <text>")
    .option("--limit <n>", "page size", "100")
    .action(async (options: { status?: string; type?: string; tag?: string[]; query?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set("status", options.status);
      if (options.type) query.set("type", options.type);
      if (options.query) query.set("q", options.query);
      for (const tag of options.tag ?? []) query.append("tag", tag);
      const page = (await (await call(`/v1/assets?${query}`)).json()) as { items: Array<Record<string, unknown>> };
      for (const item of page.items) {
        process.stdout.write(`${item.id}\t${item.status}\t${item.contentType}\t${item.size}\t${item.filename}\n`);
      }
    });

  program.command("rm")
    .description("delete assets")
    .argument("<ids...>")
    .action(async (ids: string[]) => {
      for (const id of ids) {
        await call(`/v1/assets/${encodeURIComponent(id)}`, { method: "DELETE" });
        process.stderr.write(`deleted ${id}\n`);
      }
    });

  program.command("quota")
    .description("show quotas (admin): all owners, or one; --set changes an owner's limit")
    .argument("[owner]")
    .option("--set <bytes>", "the owner's limit: bytes, or sizes such as 500MB or 10GiB")
    .option("--default", "return the owner to the configured default limit")
    .action(async (owner: string | undefined, options: { set?: string; default?: boolean }) => {
      if (!owner) {
        if (options.set || options.default) throw new Error("name the owner whose quota to change");
        print(await (await call("/v1/admin/quotas")).json());
        return;
      }
      const path = `/v1/admin/quotas/${encodeURIComponent(owner)}`;
      if (options.set !== undefined && options.default) throw new Error("use --set or --default, not both");
      if (options.set === undefined && !options.default) {
        print(await (await call(path)).json());
        return;
      }
      const maxBytes = options.default ? null : parseSize(options.set!);
      print(await (await call(path, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ maxBytes }) })).json());
    });

  program.command("sweep")
    .description("close expired upload sessions now (admin); it also runs on a schedule")
    .action(async () => {
      print(await (await call("/v1/admin/sweep", { method: "POST" })).json());
    });

  program.command("stats")
    .description("asset counts, dedup savings, cache and queue figures")
    .action(async () => {
      print(await (await call("/v1/stats")).json());
    });
}

function parseSize(text: string): number {
  const value = parseByteSize(text);
  if (value === undefined || !Number.isSafeInteger(value)) throw new Error(`expected a size such as 1048576, 500MB or 10GiB, got '${text}'`);
  return value;
}
