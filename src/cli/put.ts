import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { UploadMethod } from "../client/index.js";
import { fileInput } from "../client/node.js";
import { describeError, remote, remoteAction } from "./remote.js";
import { collectTag } from "./tags.js";
import { uploadReporter } from "./upload-progress.js";

const METHODS: readonly UploadMethod[] = ["auto", "direct", "presigned", "multipart", "tus"];

interface PutOptions {
  tag?: Record<string, string>;
  public: boolean;
  wait: number;
  method?: UploadMethod;
  resumable: boolean;
  concurrency?: number;
}

export function registerPut(program: Command): void {
  program.command("put")
    .description("upload files and folders (large files straight to storage in parallel parts; prints each manifest)")
    .argument("<paths...>", "files, or folders to upload every file under")
    .option("--tag <key=value>", "a tag to set (repeatable)", collectTag)
    .option("--public", "make the assets publicly readable", false)
    .option("--wait <seconds>", "wait for metadata extraction (the server caps the wait)", seconds, 0)
    .option("--resumable", "upload through tus, resuming after dropped connections (same as --method tus)", false)
    .addOption(new Option("--method <method>", "transfer: auto picks by size").choices(METHODS))
    .option("--concurrency <n>", "parts in flight at once for multipart uploads (default 4)", positiveInteger)
    .action(remoteAction(put));
}

async function put(paths: string[], options: PutOptions): Promise<void> {
  const tags = options.tag ?? {};
  const method = chooseMethod(options);
  const { client } = remote();
  const { files, missing } = await expand(paths);
  if (files.length === 0 && missing.length === 1) throw new Error(`${missing[0]}: no such file or folder`);
  for (const path of missing) process.stderr.write(`${path}: no such file or folder\n`);
  const width = Math.min(32, Math.max(0, ...files.map((f) => f.length)));
  const failed: string[] = [...missing];

  // Ctrl-C aborts the upload in flight, which closes its session on the server (releasing
  // the quota reservation and staged parts) instead of leaving them to the expiry sweep,
  // and ends the batch. A second Ctrl-C gets Node's default: exit at once.
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
        // A refused file (its type, its size, a quota) does not stop the batch; an
        // interrupt or a server that cannot be reached does.
        const described = describeError(error);
        reporter.failed((described as Error).message);
        // One file named: its error is the command's error, as for any other command.
        if (controller.signal.aborted || unreachable(error) || files.length + missing.length === 1) throw described;
        failed.push(file);
      }
    }
  } finally {
    process.off("SIGINT", interrupt);
  }
  if (failed.length > 0) {
    throw new Error(`${failed.length} of ${files.length + missing.length} not uploaded: ${failed.join(", ")}`);
  }
}

/** Files named, and every regular file under folders named (sorted, so runs repeat). */
async function expand(paths: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) missing.push(path);
    else if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      const found = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
      if (found.length === 0) process.stderr.write(`${path}: no files in this folder\n`);
      files.push(...found);
    } else files.push(path);
  }
  return { files, missing };
}

function unreachable(error: unknown): boolean {
  return error instanceof TypeError && error.message === "fetch failed";
}

function chooseMethod(options: PutOptions): UploadMethod {
  if (!options.resumable) return options.method ?? "auto";
  if (options.method !== undefined && options.method !== "tus") {
    throw new Error(`--resumable uploads through tus; it cannot be combined with --method ${options.method}`);
  }
  return "tus";
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
