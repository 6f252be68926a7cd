import { InvalidArgumentError, Option, type Command } from "commander";
import type { UploadMethod } from "../client/index.js";
import { fileInput } from "../client/node.js";
import { remote, remoteAction } from "./remote.js";
import { uploadReporter } from "./upload-progress.js";

const METHODS: readonly UploadMethod[] = ["auto", "direct", "presigned", "multipart", "tus"];

interface PutOptions {
  tag?: string[];
  public: boolean;
  wait: number;
  method?: UploadMethod;
  resumable: boolean;
  concurrency?: number;
}

export function registerPut(program: Command): void {
  program.command("put")
    .description("upload files (large ones straight to storage in parallel parts; prints each manifest)")
    .argument("<files...>")
    .option("--tag <k=v...>", "tags to set")
    .option("--public", "make the assets publicly readable", false)
    .option("--wait <seconds>", "wait for metadata extraction (the server caps the wait)", seconds, 0)
    .option("--resumable", "upload through tus, resuming after dropped connections (same as --method tus)", false)
    .addOption(new Option("--method <method>", "transfer: auto picks by size").choices(METHODS))
    .option("--concurrency <n>", "parts in flight at once for multipart uploads (default 4)", positiveInteger)
    .action(remoteAction(put));
}

async function put(files: string[], options: PutOptions): Promise<void> {
  const tags = parseTags(options.tag ?? []);
  const method = chooseMethod(options);
  const { client } = remote();
  const width = Math.min(32, Math.max(...files.map((f) => f.length)));

  // Ctrl-C aborts the upload in flight, which closes its session on the server (releasing
  // the quota reservation and staged parts) instead of leaving them to the expiry sweep.
  // A second Ctrl-C gets Node's default: exit at once.
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", interrupt);
  try {
    // One file at a time: manifests come out in argument order, and parallelism goes
    // where it helps, into the parts of a large file.
    for (const file of files) {
      const input = await fileInput(file);
      const reporter = uploadReporter(file, input.blob.size, width);
      try {
        const manifest = await client.upload(input, {
          tags,
          public: options.public,
          wait: options.wait,
          method,
          signal: controller.signal,
          onProgress: (progress) => reporter.onProgress(progress),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        });
        reporter.done(manifest);
        process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      } catch (error) {
        reporter.failed();
        throw error;
      }
    }
  } finally {
    process.off("SIGINT", interrupt);
  }
}

function chooseMethod(options: PutOptions): UploadMethod {
  if (!options.resumable) return options.method ?? "auto";
  if (options.method !== undefined && options.method !== "tus") {
    throw new Error(`--resumable uploads through tus; it cannot be combined with --method ${options.method}`);
  }
  return "tus";
}

export function parseTags(pairs: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new Error(`--tag expects key=value, got '${pair}'`);
    tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return tags;
}

function positiveInteger(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InvalidArgumentError("a positive whole number");
  return Number(text);
}

function seconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError("a number of seconds");
  return value;
}
