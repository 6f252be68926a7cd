import { InvalidParameterError } from "./errors.js";

/** The value checks shared by the recipe parsers: each refusal names its parameter. */

export type Raw = Record<string, string>;

export function int(raw: Raw, key: string, min: number, max: number): number {
  const text = raw[key]!;
  if (!/^\d+$/.test(text)) throw new InvalidParameterError(key, `${key} must be an integer from ${min} to ${max}`);
  const value = Number(text);
  if (value < min || value > max) throw new InvalidParameterError(key, `${key} must be an integer from ${min} to ${max}`);
  return value;
}

export function num(raw: Raw, key: string, min: number, max: number): number {
  const text = raw[key]!;
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text)) throw new InvalidParameterError(key, `${key} must be a number from ${min} to ${max}`);
  const value = Math.round(Number(text) * 1000) / 1000;
  if (value < min || value > max) throw new InvalidParameterError(key, `${key} must be a number from ${min} to ${max}`);
  return value;
}

export function flag(raw: Raw, key: string): boolean {
  const v = raw[key];
  if (v === "" || v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  throw new InvalidParameterError(key, `${key} must be 0 or 1`);
}

export function oneOf<T extends string>(raw: Raw, key: string, allowed: readonly T[]): T {
  const v = raw[key]!;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new InvalidParameterError(key, `${key} must be one of ${allowed.join(", ")}`);
}
