import { InvalidArgumentError } from "commander";

/**
 * One tag syntax on every command: `--tag key=value`, repeatable. `put` sets the pairs,
 * `ls` matches them (the server's listing spells its filter `tag=key:value`; the client
 * converts).
 */
export function collectTag(pair: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = pair.indexOf("=");
  if (eq < 1) throw new InvalidArgumentError(`expected key=value, got '${pair}'`);
  return { ...previous, [pair.slice(0, eq)]: pair.slice(eq + 1) };
}
