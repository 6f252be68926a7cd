import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/** ../shared/fixtures beside the repository (CI puts it there too); ASSETD_FIXTURES overrides. */
export const FIXTURES = process.env.ASSETD_FIXTURES ?? resolve(fileURLToPath(new URL("../../../shared/fixtures", import.meta.url)));

export const fixturePath = (name: string): string => resolve(FIXTURES, name);
export const fixture = (name: string): Buffer => readFileSync(fixturePath(name));
