import { InvalidArgumentError, type Command } from "commander";
import type { AssetKind, AssetStatus } from "../client/index.js";
import { parseByteSize } from "../config/index.js";
import { registerGet } from "./get.js";
import { parseTags, registerPut } from "./put.js";
import { remote, remoteAction } from "./remote.js";

/**
 * Commands that talk to a running assetd over HTTP through `assetd/client`, like any other
 * client: ASSETD_URL (default http://localhost:8080) and ASSETD_TOKEN. Failures print as
 * `assetd: <status> <code>: <message>` and exit 1 (see remote.ts).
 */
export function registerClientCommands(program: Command): void {
  registerPut(program);
  registerGet(program);

  program.command("ls")
    .description("list assets (newest first)")
    .option("--status <status>").option("--type <type>").option("--tag <k:v...>").option("-q, --query <text>")
    .option("--limit <n>", "page size", pageSize, 100)
    .action(remoteAction(async (options: { status?: string; type?: string; tag?: string[]; query?: string; limit: number }) => {
      // Status and type are checked by the server, which names the values it accepts.
      const page = await remote().client.assets.list({
        status: options.status as AssetStatus | undefined,
        type: options.type as AssetKind | undefined,
        tags: options.tag,
        q: options.query,
        limit: options.limit,
      });
      for (const item of page.items) {
        process.stdout.write(`${item.id}\t${item.status}\t${item.contentType}\t${item.size}\t${item.filename}\n`);
      }
    }));

  program.command("import")
    .description("have the server fetch files from http(s) URLs into new assets; prints each manifest")
    .argument("<urls...>")
    .option("--tag <k=v...>", "tags to set")
    .option("--public", "readable by anyone")
    .action(remoteAction(async (urls: string[], options: { tag?: string[]; public?: boolean }) => {
      const { client } = remote();
      const tags = parseTags(options.tag ?? []);
      for (const url of urls) {
        const manifest = await client.importUrl({ url, tags, ...(options.public ? { public: true } : {}) });
        process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      }
    }));

  program.command("rm")
    .description("delete assets")
    .argument("<ids...>")
    .action(remoteAction(async (ids: string[]) => {
      const { client } = remote();
      for (const id of ids) {
        await client.assets.delete(id);
        process.stderr.write(`deleted ${id}\n`);
      }
    }));

  program.command("quota")
    .description("show quotas (admin): all owners, or one; --set changes an owner's limit")
    .argument("[owner]")
    .option("--set <bytes>", "the owner's limit: bytes, or sizes such as 500MB or 10GiB")
    .option("--default", "return the owner to the configured default limit")
    .action(remoteAction(async (owner: string | undefined, options: { set?: string; default?: boolean }) => {
      const { quotas } = remote().client.admin;
      if (!owner) {
        if (options.set || options.default) throw new Error("name the owner whose quota to change");
        print(await quotas.list());
        return;
      }
      if (options.set !== undefined && options.default) throw new Error("use --set or --default, not both");
      if (options.set === undefined && !options.default) {
        print(await quotas.get(owner));
        return;
      }
      print(await quotas.set(owner, options.default ? null : parseSize(options.set!)));
    }));

  program.command("sign")
    .description("print a delivery URL of an asset that anyone may load until it expires")
    .argument("<id>")
    .option("-t, --transform <query>", "a transform query such as w=300&fmt=webp (default: the original)")
    .option("--ttl <seconds>", "lifetime in seconds (default 3600, at most 604800)", (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("a positive whole number of seconds");
      return Number(v);
    })
    .action(remoteAction(async (id: string, options: { transform?: string; ttl?: number }) => {
      const signed = await remote().client.assets.signedUrl(id, {
        ...(options.transform !== undefined ? { query: options.transform } : {}),
        ...(options.ttl !== undefined ? { expiresIn: options.ttl } : {}),
      });
      process.stdout.write(`${signed.url}\n`);
      process.stderr.write(`expires ${signed.expiresAt}\n`);
    }));

  program.command("sweep")
    .description("close expired upload sessions now (admin); it also runs on a schedule")
    .action(remoteAction(async () => print(await remote().client.admin.sweep())));

  program.command("stats")
    .description("asset counts, dedup savings, cache and queue figures")
    .action(remoteAction(async () => print(await remote().client.stats())));
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parseSize(text: string): number {
  const value = parseByteSize(text);
  if (value === undefined || !Number.isSafeInteger(value)) throw new Error(`expected a size such as 1048576, 500MB or 10GiB, got '${text}'`);
  return value;
}

function pageSize(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new InvalidArgumentError("a whole number from 1 to 1000");
  return Number(text);
}
