import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze";
const UNIT = new URL("../deploy/assetd.service", import.meta.url);

describe("deploy/assetd.service", () => {
  it.skipIf(!existsSync(SYSTEMD_ANALYZE))("passes systemd-analyze verify without a warning", async () => {
    // The unit names Debian's /usr/bin/node; this machine's node may live elsewhere.
    const dir = await mkdtemp(join(tmpdir(), "assetd-unit-"));
    try {
      const unit = (await readFile(UNIT, "utf8")).replace("/usr/bin/node ", `${process.execPath} `);
      const path = join(dir, "assetd.service");
      await writeFile(path, unit);
      const { stderr } = await run(SYSTEMD_ANALYZE, ["verify", path]);
      expect(stderr).toBe("");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs `assetd serve` with its data in the state directory systemd creates", async () => {
    const unit = await readFile(UNIT, "utf8");
    expect(unit).toMatch(/^ExecStart=\S+ \/opt\/assetd\/bin\/assetd\.js serve$/m);
    expect(unit).toMatch(/^StateDirectory=assetd$/m);
    expect(unit).toMatch(/^Environment=ASSETD_DATA_DIR=\/var\/lib\/assetd$/m);
  });
});
if (!existsSync(SYSTEMD_ANALYZE)) console.log("deploy/assetd.service: systemd-analyze is not installed; the unit is not verified here");
