import type { FastifyRequest } from "fastify";
import type { AssetRow } from "../ports/repos.js";
import { toManifest, type Manifest } from "../services/manifest.js";
import type { AppDeps } from "./app.js";

/**
 * The manifest as this server shows it: URLs on the request's origin (or the configured
 * public URL), preset URLs when some engine can make stills of the content.
 */
export function manifestFor(deps: Pick<AppDeps, "publicUrl" | "engine" | "frames">, request: FastifyRequest, asset: AssetRow): Manifest {
  const type = asset.contentType ?? "";
  const transformable = type !== "" && (deps.engine.canRender(type) || deps.frames.some((f) => f.handles(type)));
  const baseUrl = deps.publicUrl ?? `${request.protocol}://${request.host}`;
  return toManifest(asset, request.caller, baseUrl, transformable);
}
