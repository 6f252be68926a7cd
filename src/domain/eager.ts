import { InvalidParameterError, isAppError } from "./errors.js";
import { DELIVERY_PARAMS, type Query } from "./recipe.js";

/** At most this many eager variants per upload. */
export const MAX_EAGER_VARIANTS = 16;

/**
 * The eager variants an upload names (DESIGN §10): `?eager=<q1>|<q2>` with each `qN` a
 * URL-encoded transform query, or a form field holding a JSON array of query strings.
 * Each recipe is checked with `check` (the delivery's own parser, so presets count) and
 * returned in a canonical query-string form; a bad one is `400 invalid_parameter` naming
 * `eager`, before any byte is stored.
 */
export function parseEager(value: string | undefined, shape: "list" | "json", check: (query: Query) => void): string[] {
  if (value === undefined || value === "") return [];
  let items: unknown;
  if (shape === "json") {
    try {
      items = JSON.parse(value);
    } catch {
      throw new InvalidParameterError("eager", "eager must be a JSON array of transform queries");
    }
    if (!Array.isArray(items) || !items.every((item) => typeof item === "string")) {
      throw new InvalidParameterError("eager", "eager must be a JSON array of transform queries");
    }
  } else {
    items = value.split("|");
  }
  const queries = items as string[];
  if (queries.length > MAX_EAGER_VARIANTS) {
    throw new InvalidParameterError("eager", `at most ${MAX_EAGER_VARIANTS} eager variants per upload`);
  }
  const canonical = queries.map((text) => {
    const params = new URLSearchParams(text.startsWith("?") ? text.slice(1) : text);
    const query: Query = {};
    for (const [key, v] of params) {
      if (DELIVERY_PARAMS.has(key)) throw new InvalidParameterError("eager", `eager recipe '${text}': '${key}' is not a transform`);
      if (query[key] !== undefined) throw new InvalidParameterError("eager", `eager recipe '${text}': '${key}' is given more than once`);
      query[key] = v;
    }
    if (Object.keys(query).length === 0) throw new InvalidParameterError("eager", `eager recipe '${text}' has no transform`);
    try {
      check(query);
    } catch (error) {
      if (isAppError(error) && error.code === "invalid_parameter") {
        throw new InvalidParameterError("eager", `eager recipe '${text}': ${error.message}`);
      }
      throw error;
    }
    return params.toString();
  });
  return [...new Set(canonical)];
}
