import { InvalidArgumentError, type Command } from "commander";
import type { AssetKind, AssetStatus, Manifest } from "../client/index.js";
import { humanSize, printJson, shortDate, table } from "./format.js";
import { deliveryUrl } from "./get.js";
import { remote, remoteAction } from "./remote.js";
import { collectTag } from "./tags.js";

/** Commands about assets that exist: list, inspect, link, share, delete. */
export function registerAssetCommands(program: Command): void {
  program.command("ls")
    .description("list assets, newest first (one page unless --all)")
    .option("--status <status>", "pending, uploaded, verified, processing, ready, failed, quarantined")
    .option("--type <type>", "image, video, audio, document, other")
    .option("--tag <key=value>", "only assets with this tag (repeatable; all must match)", collectTag)
    .option("-q, --query <text>", "filename contains")
    .option("--limit <n>", "page size", pageSize, 100)
    .option("--all", "follow the cursor through every page", false)
    .option("--json", "one JSON manifest per line instead of a table", false)
    .action(remoteAction(list));

  program.command("info")
    .description("print an asset's manifest (metadata, URLs, state) and its state history")
    .argument("<id>")
    .option("--events", "include the state history", false)
    .action(remoteAction(async (id: string, options: { events: boolean }) => {
      const { client } = remote();
      const manifest = await client.assets.get(id);
      printJson(options.events ? { ...manifest, events: await client.assets.events(id) } : manifest);
    }));

  program.command("url")
    .description("print the delivery URL of an asset or of a variant (canonical parameter order)")
    .argument("<id>")
    .option("-t, --transform <query>", "transform parameters, e.g. 'w=300&fmt=webp'")
    .action(remoteAction(async (id: string, options: { transform?: string }) => {
      process.stdout.write(`${deliveryUrl(remote(), id, options.transform)}\n`);
    }));

  program.command("sign")
    .description("print a delivery URL of an asset that anyone may load until it expires")
    .argument("<id>")
    .option("-t, --transform <query>", "a transform query such as w=300&fmt=webp (default: the original)")
    .option("--ttl <seconds>", "lifetime in seconds (default 3600, at most 604800)", ttl)
    .action(remoteAction(async (id: string, options: { transform?: string; ttl?: number }) => {
      const signed = await remote().client.assets.signedUrl(id, {
        ...(options.transform !== undefined ? { query: options.transform } : {}),
        ...(options.ttl !== undefined ? { expiresIn: options.ttl } : {}),
      });
      process.stdout.write(`${signed.url}\n`);
      process.stderr.write(`expires ${signed.expiresAt}\n`);
    }));

  program.command("share")
    .description("share an asset: a download link that expires, or with --with a standing grant")
    .argument("<id>")
    .option("--ttl <seconds>", "lifetime of the link in seconds (default 3600, at most 604800)", ttl)
    .option("--with <principal>", "grant instead of linking: a user id, group:<name>, or * for everyone")
    .option("--permission <permission>", "with --with: read, write or delete", "read")
    .option("--revoke", "with --with: take the grant away again", false)
    .action(remoteAction(share));

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
}

interface ListOptions {
  status?: string;
  type?: string;
  tag?: Record<string, string>;
  query?: string;
  limit: number;
  all: boolean;
  json: boolean;
}

async function list(options: ListOptions): Promise<void> {
  const { client } = remote();
  // Status and type are checked by the server, which names the values it accepts.
  const query = {
    ...(options.status ? { status: options.status as AssetStatus } : {}),
    ...(options.type ? { type: options.type as AssetKind } : {}),
    ...(options.tag ? { tags: options.tag } : {}),
    ...(options.query ? { q: options.query } : {}),
    limit: options.limit,
  };
  const items: Manifest[] = [];
  let more = false;
  if (options.all) {
    for await (const item of client.assets.iterate(query)) {
      if (options.json) process.stdout.write(`${JSON.stringify(item)}\n`);
      else items.push(item);
    }
  } else {
    const page = await client.assets.list(query);
    more = page.next !== null && page.next !== undefined;
    if (options.json) for (const item of page.items) process.stdout.write(`${JSON.stringify(item)}\n`);
    else items.push(...page.items);
  }
  if (options.json) return;
  if (items.length === 0) {
    process.stderr.write("no assets\n");
    return;
  }
  process.stdout.write(table(
    ["ID", "STATUS", "TYPE", "SIZE", "CREATED", "NAME"],
    items.map((item) => [item.id, item.status, item.contentType ?? item.kind, humanSize(item.size), shortDate(item.createdAt), item.filename]),
  ));
  if (more) process.stderr.write(`(more: --all lists every page, --limit sets the page size)\n`);
}

async function share(id: string, options: { ttl?: number; with?: string; permission: string; revoke: boolean }): Promise<void> {
  const { client } = remote();
  if (options.with === undefined) {
    if (options.revoke) throw new Error("--revoke takes a grant away: name it with --with");
    const signed = await client.assets.signedUrl(id, { query: "download=1", ...(options.ttl !== undefined ? { expiresIn: options.ttl } : {}) });
    process.stdout.write(`${signed.url}\n`);
    process.stderr.write(`anyone with this link can download the original until ${signed.expiresAt}\n`);
    return;
  }
  if (options.ttl !== undefined) throw new Error("--ttl applies to links; a grant lasts until it is revoked");
  if (!["read", "write", "delete"].includes(options.permission)) throw new Error(`--permission is read, write or delete, not '${options.permission}'`);
  const grant = { principal: options.with, permission: options.permission as "read" | "write" | "delete" };
  if (options.revoke) await client.assets.revoke(id, grant);
  else await client.assets.grant(id, grant);
  printJson(await client.assets.grants(id));
}

function ttl(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("a positive whole number of seconds");
  return Number(v);
}

function pageSize(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new InvalidArgumentError("a whole number from 1 to 1000");
  return Number(text);
}
