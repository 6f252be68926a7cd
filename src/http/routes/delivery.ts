import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AssetRow } from "../../domain/asset.js";
import { FORMAT_CONTENT_TYPE, isActiveContent, mustDownload } from "../../domain/media-types.js";
import { ACCEPT_CH, readClientHints, varyNames } from "../../domain/client-hints.js";
import { hasTransform, type Query } from "../../domain/recipe.js";
import type { DeliveryService } from "../../services/deliver.js";
import type { SignedPass, SignedUrlService } from "../../services/signed-urls.js";
import { clientKey } from "../client-key.js";
import { cacheControl, cacheDetail } from "../delivery-headers.js";
import { contentDisposition } from "../headers.js";
import { header, idParam, signedParts } from "../params.js";
import { sendRanged } from "../ranges.js";

export interface DeliveryRouteDeps {
  delivery: Pick<DeliveryService, "original" | "variant">;
  signedUrls: Pick<SignedUrlService, "check" | "privateCacheControl">;
  /** ASSETD_CLIENT_HINTS: transform responses ask for hints (Accept-CH) and recipes read them. */
  clientHints?: boolean;
}

/**
 * `GET|HEAD /a/:id` serves the original; with transform parameters, a variant. URLs are
 * content-derived, so public responses are cacheable forever and never purged. With
 * ASSETD_ASYNC_VARIANTS a miss answers 202 with Retry-After and Location (this URL) while
 * a job renders it.
 */
export async function deliveryRoutes(app: FastifyInstance, deps: DeliveryRouteDeps): Promise<void> {
  // HEAD is routed explicitly so it answers from metadata without opening the bytes.
  app.route({
    method: ["GET", "HEAD"],
    url: "/a/:id",
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      // A signature is checked before the asset is looked up (DESIGN §10).
      const pass = deps.signedUrls.check(...signedParts(request));
      const id = idParam(request);
      const query = request.query as Query;
      const download = query.download === "1" || query.download === "true";
      if (hasTransform(query)) return sendVariant(request, reply, id, query, download, pass);
      return sendOriginal(request, reply, id, download, pass);
    },
  });

  function cacheHeaders(reply: FastifyReply, asset: AssetRow, pass: SignedPass | undefined): void {
    reply.header("Cache-Control", cacheControl(asset.public, pass, deps.signedUrls));
    reply.header("X-Content-Type-Options", "nosniff");
  }

  async function sendOriginal(request: FastifyRequest, reply: FastifyReply, id: string, download: boolean, pass: SignedPass | undefined) {
    const original = await deps.delivery.original(request.caller, id, { signed: pass !== undefined });
    cacheHeaders(reply, original.asset, pass);
    const type = original.contentType;
    const disposition = download || mustDownload(type) ? contentDisposition("attachment", original.asset.filename) : undefined;
    // Big downloads skip this tier: a presigned GET of the store, with the same headers
    // signed in. Active content stays here, where it is served under CSP sandbox.
    if (original.link && !isActiveContent(type)) {
      reply.header("Cache-Control", "private, no-store");
      return reply.redirect(await original.link(disposition), 302);
    }
    if (isActiveContent(type)) reply.header("Content-Security-Policy", "sandbox");
    if (disposition) reply.header("Content-Disposition", disposition);
    return sendRanged(request, reply, {
      etag: `"${original.etag}"`, size: original.size, contentType: type,
      open: (range) => original.open(range),
    });
  }

  async function sendVariant(request: FastifyRequest, reply: FastifyReply, id: string, query: Query, download: boolean, pass: SignedPass | undefined) {
    // Aborted when the client disconnects before the response is written.
    const disconnected = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) disconnected.abort();
    };
    reply.raw.once("close", onClose);
    // Asked for on every transform response, even a refusal's, so the next request carries them.
    if (deps.clientHints) reply.header("Accept-CH", ACCEPT_CH);
    const hints = deps.clientHints ? readClientHints((name) => header(request, name)) : undefined;
    const variant = await deps.delivery.variant(request.caller, id, query, header(request, "accept"), disconnected.signal, {
      // Admins render unmetered (operators, prewarming); everyone else pays per client.
      signed: pass !== undefined, client: request.caller?.admin ? undefined : clientKey(request),
    }, hints);
    const vary = [...(variant.kind !== "pending" && variant.negotiated ? ["Accept"] : []), ...varyNames(variant.hints ?? [])];
    if (vary.length > 0) reply.header("Vary", vary.join(", "));
    if (variant.kind === "pending") {
      // ASSETD_ASYNC_VARIANTS: a job renders it; the same URL answers 200 once it is stored.
      reply.header("Retry-After", String(variant.retryAfter)).header("Location", request.url);
      reply.header("Cache-Control", "no-store");
      cacheDetail(request, reply, "MISS");
      return reply.code(202).send({ status: "rendering", retryAfter: variant.retryAfter, location: request.url });
    }
    cacheHeaders(reply, variant.asset, pass);
    cacheDetail(request, reply, variant.cache, variant.renderMs, variant.quality);
    if (download) {
      reply.header("Content-Disposition", contentDisposition("attachment", variantFilename(variant.asset.filename, variant.contentType)));
    }
    return sendRanged(request, reply, {
      etag: `"${variant.cacheKey}"`, size: variant.size, contentType: variant.contentType,
      open: (range) => variant.open(range),
    });
  }
}

function variantFilename(filename: string, contentType: string): string {
  const entry = Object.entries(FORMAT_CONTENT_TYPE).find(([, type]) => type === contentType);
  const ext = entry ? (entry[0] === "jpeg" ? "jpg" : entry[0]) : "bin";
  const base = filename.replace(/\.[^.]+$/, "");
  return `${base}.${ext}`;
}
