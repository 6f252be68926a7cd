import type { FastifyRequest } from "fastify";
import type { AssetRow } from "../domain/asset.js";
import type { DeliveryService } from "../services/deliver.js";
import { toManifest, type Manifest } from "../services/manifest.js";

export interface ManifestDeps {
  /** The configured public URL; undefined: URLs on the request's own origin. */
  publicUrl: string | undefined;
  delivery: Pick<DeliveryService, "canTransform">;
}

/**
 * The manifest as this server shows it: URLs on the request's origin (or the configured
 * public URL), preset URLs when some engine can make stills of the content.
 */
export function manifestFor(deps: ManifestDeps, request: FastifyRequest, asset: AssetRow): Manifest {
  const transformable = deps.delivery.canTransform(asset.contentType ?? "");
  return toManifest(asset, request.caller, baseUrlOf(deps, request), transformable);
}

/** Where this server's URLs point: the configured public URL, else the request's origin. */
export function baseUrlOf(deps: Pick<ManifestDeps, "publicUrl">, request: FastifyRequest): string {
  return deps.publicUrl ?? `${request.protocol}://${request.host}`;
}
