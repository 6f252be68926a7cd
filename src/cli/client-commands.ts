import type { Command } from "commander";
import { parseByteSize } from "../config/index.js";
import { registerAssetCommands } from "./asset-commands.js";
import { printJson as print } from "./format.js";
import { registerGet } from "./get.js";
import { registerPut } from "./put.js";
import { remote, remoteAction } from "./remote.js";
import { collectTag } from "./tags.js";

/**
 * Commands that talk to a running assetd over HTTP through `assetd/client`, like any other
 * client: ASSETD_URL (default http://localhost:8080) and ASSETD_TOKEN. Failures print as
 * `assetd: <status> <code>: <message>` and exit 1 (see remote.ts).
 */
export function registerClientCommands(program: Command): void {
  registerPut(program);
  registerGet(program);
  registerAssetCommands(program);

  program.command("import")
    .description("have the server fetch files from http(s) URLs into new assets; prints each manifest")
    .argument("<urls...>")
    .option("--tag <key=value>", "a tag to set (repeatable)", collectTag)
    .option("--public", "readable by anyone")
    .action(remoteAction(async (urls: string[], options: { tag?: Record<string, string>; public?: boolean }) => {
      const { client } = remote();
      for (const url of urls) {
        const manifest = await client.importUrl({ url, tags: options.tag ?? {}, ...(options.public ? { public: true } : {}) });
        process.stdout.write(`${JSON.stringify(manifest, null, 2)}
`);
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

  program.command("sweep")
    .description("close expired upload sessions now (admin); it also runs on a schedule")
    .action(remoteAction(async () => print(await remote().client.admin.sweep())));

  program.command("stats")
    .description("asset counts, dedup savings, cache and queue figures")
    .action(remoteAction(async () => print(await remote().client.stats())));
}

function parseSize(text: string): number {
  const value = parseByteSize(text);
  if (value === undefined || !Number.isSafeInteger(value)) throw new Error(`expected a size such as 1048576, 500MB or 10GiB, got '${text}'`);
  return value;
}
