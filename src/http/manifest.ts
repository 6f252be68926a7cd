import type { FastifyRequest } from "fastify";
import type { AssetRow } from "../domain/asset.js";
import { AppError } from "../domain/errors.js";
import { isTrustedHost, type TrustedHost } from "../domain/trusted-hosts.js";
import type { DeliveryService } from "../services/deliver.js";
import { toManifest, type Manifest } from "../services/manifest.js";

export interface ManifestDeps {
  /** The configured public URL; undefined: URLs on the request's own origin. */
  publicUrl: string | undefined;
  /** Host headers believed while publicUrl is unset (ASSETD_TRUSTED_HOSTS). */
  trustedHosts: readonly TrustedHost[];
  delivery: Pick<DeliveryService, "canTransform" | "presetNames">;
}

/**
 * The manifest as this server shows it: URLs on the request's origin (or the configured
 * public URL), preset URLs when some engine can make stills of the content.
 */
export function manifestFor(deps: ManifestDeps, request: FastifyRequest, asset: AssetRow): Manifest {
  const transformable = deps.delivery.canTransform(asset.contentType ?? "");
  return toManifest(asset, request.caller, baseUrlOf(deps, request), transformable ? deps.delivery.presetNames : []);
}

/**
 * Where this server's URLs point: the configured public URL, else the request's origin when
 * its Host is trusted. A forged Host would put its origin into manifests, signed URLs and
 * upload targets that clients follow and caches keep, so such a request is refused (as
 * Django refuses a Host outside ALLOWED_HOSTS) rather than answered with URLs on a guess.
 */
export function baseUrlOf(deps: Pick<ManifestDeps, "publicUrl" | "trustedHosts">, request: FastifyRequest): string {
  if (deps.publicUrl !== undefined) return deps.publicUrl;
  if (!isTrustedHost(deps.trustedHosts, request.host)) {
    throw new AppError("bad_request", "untrusted Host; set ASSETD_PUBLIC_URL or ASSETD_TRUSTED_HOSTS");
  }
  return `${request.protocol}://${request.host}`;
}
