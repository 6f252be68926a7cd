import { isOwnerView, type Caller } from "../domain/access.js";
import type { AssetEvent, AssetMeta, AssetRow } from "../ports/repos.js";

/**
 * The JSON shape of an asset (DESIGN §5). URLs are computed here from the id, never
 * stored. Owner-only facts (the owner's principal, GPS coordinates) are removed for everyone else.
 */
/** `presets`: the preset names to link, empty when nothing can render this content. */
export function toManifest(asset: AssetRow, caller: Caller, baseUrl: string, presets: readonly string[]) {
  const ownerView = isOwnerView(caller, asset);
  const original = `${baseUrl}/a/${asset.id}`;
  const urls: Record<string, string> = { original };
  for (const preset of presets) urls[preset] = `${original}?preset=${encodeURIComponent(preset)}`;
  if (asset.kind === "video") {
    urls.hls = `${original}/hls/master.m3u8`;
    urls.dash = `${original}/dash/manifest.mpd`;
  }
  return {
    id: asset.id,
    status: asset.status,
    // Who owns an asset is the owner's business: strangers reading a public or shared asset do not learn it.
    ...(ownerView ? { owner: asset.owner } : {}),
    filename: asset.filename,
    contentType: asset.contentType,
    declaredType: asset.declaredType,
    kind: asset.kind,
    size: asset.size,
    sha256: asset.blobSha256,
    public: asset.public,
    tags: asset.tags,
    meta: publicMeta(asset.meta, ownerView),
    createdAt: new Date(asset.createdAt).toISOString(),
    updatedAt: new Date(asset.updatedAt).toISOString(),
    ...(asset.deletedAt !== null ? { deletedAt: new Date(asset.deletedAt).toISOString() } : {}),
    urls,
    ...(asset.failure ? { failure: asset.failure } : {}),
  };
}

export type Manifest = ReturnType<typeof toManifest>;

function publicMeta(meta: AssetMeta | null, ownerView: boolean): AssetMeta | null {
  if (!meta) return meta;
  const exif = meta.exif as Record<string, unknown> | undefined;
  if (!exif || typeof exif !== "object") return meta;
  const { gps, ...rest } = exif;
  const hasGps = gps !== undefined && gps !== null;
  return { ...meta, exif: ownerView && hasGps ? { ...rest, hasGps, gps } : { ...rest, hasGps } };
}

export function toEvent(event: AssetEvent) {
  return { from: event.from, to: event.to, reason: event.reason, at: new Date(event.at).toISOString() };
}
