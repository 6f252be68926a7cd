import { pino, type Logger, type LevelWithSilent } from "pino";
import pretty from "pino-pretty";

export type LogFormat = "auto" | "json" | "pretty";

/** `auto`: readable lines for a person at a terminal, JSON for everything that parses logs. */
export function chooseLogFormat(format: LogFormat, isTerminal: boolean): "json" | "pretty" {
  return format === "auto" ? (isTerminal ? "pretty" : "json") : format;
}

/**
 * The service's logger on stdout. Pretty lines are formatted in-process and written
 * synchronously (no worker thread), so nothing logged just before an exit is lost.
 */
export function createLogger(level: LevelWithSilent, format: LogFormat, isTerminal = process.stdout.isTTY === true): Logger {
  if (chooseLogFormat(format, isTerminal) === "json") return pino({ level });
  return pino({ level }, pretty({ colorize: isTerminal, sync: true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
}
