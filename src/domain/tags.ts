import { InvalidParameterError } from "./errors.js";

/**
 * Caps on tags (DESIGN §10 "Bounded cost"). Without them one client made every anonymous
 * listing 18.6 MB with 10k tags per asset, and a 75k-tag PATCH or ~1400 `tag=` filters
 * answered 500 (issue 13, finding 5). Lengths count characters (code points), as a person
 * reading the limit would.
 */
export const TAG_LIMITS = Object.freeze({
  maxTagsPerAsset: 64,
  maxKeyChars: 64,
  maxValueChars: 1024,
  maxFiltersPerListing: 20,
});

const PARAMETER = "tags";

/** Code points, not UTF-16 units: an emoji is one character. */
const chars = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

function checkKey(key: string): void {
  if (key.length === 0) throw new InvalidParameterError(PARAMETER, "tag keys must not be empty");
  if (chars(key) > TAG_LIMITS.maxKeyChars) {
    throw new InvalidParameterError(PARAMETER, `tag keys are at most ${TAG_LIMITS.maxKeyChars} characters`);
  }
}

function checkValue(value: string): void {
  if (chars(value) > TAG_LIMITS.maxValueChars) {
    throw new InvalidParameterError(PARAMETER, `tag values are at most ${TAG_LIMITS.maxValueChars} characters`);
  }
}

function checkCount(count: number): void {
  if (count > TAG_LIMITS.maxTagsPerAsset) {
    throw new InvalidParameterError(PARAMETER, `an asset has at most ${TAG_LIMITS.maxTagsPerAsset} tags`);
  }
}

/** A whole tag set, as given on create or import. Throws InvalidParameterError("tags") beyond a cap. */
export function checkTags(tags: Readonly<Record<string, string>>): void {
  const entries = Object.entries(tags);
  checkCount(entries.length); // first: a 75k-tag body is refused before its entries are read
  for (const [key, value] of entries) {
    checkKey(key);
    checkValue(value);
  }
}

/**
 * A PATCH (`null` removes a tag) against the asset's current tags: the entries it sets must
 * be within the caps, and so must the set it leaves. Returns that resulting set.
 */
export function applyTagPatch(
  current: Readonly<Record<string, string>>, patch: Readonly<Record<string, string | null>>,
): Record<string, string> {
  const entries = Object.entries(patch);
  // The patch alone can only add as many tags as it has entries; refuse a huge one unread.
  if (entries.length > TAG_LIMITS.maxTagsPerAsset + Object.keys(current).length) checkCount(entries.length);
  // A Map, so that a key like "__proto__" is a tag like any other, not a prototype.
  const next = new Map(Object.entries(current));
  for (const [key, value] of entries) {
    checkKey(key);
    if (value === null) {
      next.delete(key);
    } else {
      checkValue(value);
      next.set(key, value);
    }
  }
  checkCount(next.size);
  return Object.fromEntries(next);
}

/** The `tag=key:value` filters of one listing: at most 20, each within the key and value caps. */
export function checkTagFilters(filters: ReadonlyArray<readonly [string, string]>): void {
  if (filters.length > TAG_LIMITS.maxFiltersPerListing) {
    throw new InvalidParameterError(PARAMETER, `a listing takes at most ${TAG_LIMITS.maxFiltersPerListing} tag filters`);
  }
  for (const [key, value] of filters) {
    checkKey(key);
    checkValue(value);
  }
}
