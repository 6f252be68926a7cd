/**
 * Debian's Chromium, driven by playwright-core (no browser download: the binary comes from
 * apt, installed by .ci/run). Suites that need it skip with the reason printed when it is
 * missing, never silently.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.ASSETD_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** undefined when Chromium can be launched, else why not. */
export function chromiumSkipReason(suite: string): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set ASSETD_TEST_CHROMIUM)`;
  console.warn(`[${suite}] skipping: ${reason}`);
  return reason;
}

/**
 * Headless, sandbox off (tests run as root), and no background networking: this machine
 * has no network beyond loopback, and Chromium's own connections would only fail slowly.
 * Playwright gives every launch a fresh, empty profile of its own.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync",
    ],
  });
}
