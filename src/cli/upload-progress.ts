import cliProgress from "cli-progress";
import type { Manifest, Progress } from "../client/index.js";

/**
 * How `assetd put` reports each file on stderr (stdout carries only the manifests, so it
 * can be piped): a live bar on a terminal, one summary line per file otherwise (logs, CI,
 * `2>file`), where a redrawn bar would only be noise.
 */
export interface UploadReporter {
  onProgress(progress: Progress): void;
  done(manifest: Manifest): void;
  /** `reason` is printed beside the file's name: the batch goes on to the next file. */
  failed(reason: string): void;
}

export function uploadReporter(file: string, size: number, width: number): UploadReporter {
  return process.stderr.isTTY ? new BarReporter(file, size, width) : new LineReporter(file, size);
}

class LineReporter implements UploadReporter {
  private readonly started = Date.now();

  constructor(private readonly file: string, private readonly size: number) {}

  onProgress(): void {}

  done(manifest: Manifest): void {
    process.stderr.write(`${this.file}: ${manifest.id} ${manifest.status} (${rate(this.size, this.started)})\n`);
  }

  failed(reason: string): void {
    process.stderr.write(`${this.file}: failed: ${reason}\n`);
  }
}

class BarReporter implements UploadReporter {
  private readonly started = Date.now();
  private readonly bar: cliProgress.SingleBar;

  constructor(file: string, private readonly size: number, width: number) {
    this.bar = new cliProgress.SingleBar({
      format: "{file} {bar} {percentage}% | {sent}/{size} | {note}",
      barsize: 24,
      hideCursor: true,
      stream: process.stderr,
      // Redraws are throttled by fps; the last state stays on screen as the file's record.
      clearOnComplete: false,
      stopOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    // An empty file still gets a full bar rather than a division by zero.
    this.bar.start(Math.max(size, 1), 0, { file: fit(file, width), sent: bytes(0), size: bytes(size), note: "" });
  }

  onProgress({ loaded }: Progress): void {
    this.bar.update(loaded, { sent: bytes(loaded), note: rate(loaded, this.started) });
  }

  done(manifest: Manifest): void {
    this.bar.update(Math.max(this.size, 1), { sent: bytes(this.size), note: `${manifest.id} ${manifest.status} (${rate(this.size, this.started)})` });
    this.bar.stop();
  }

  failed(reason: string): void {
    this.bar.update({ note: `failed: ${reason}` });
    this.bar.stop();
  }
}

/** Decimal megabytes per second, as the summary line has always shown. */
function rate(bytesSent: number, since: number): string {
  const seconds = Math.max((Date.now() - since) / 1000, 0.001);
  return `${(bytesSent / 1e6 / seconds).toFixed(1)} MB/s`;
}

function bytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Names padded to line the bars up, long ones cut from the front (the end tells files apart). */
function fit(name: string, width: number): string {
  return name.length > width ? `…${name.slice(name.length - width + 1)}` : name.padEnd(width);
}
