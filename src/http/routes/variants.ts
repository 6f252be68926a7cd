import type { FastifyInstance } from "fastify";
import type { VariantListing } from "../../services/variant-list.js";
import { idParam } from "../params.js";

/** `GET /v1/assets/:id/variants`: the stored variants of an asset and what each was derived from. */
export async function variantRoutes(app: FastifyInstance, deps: { variants: VariantListing }): Promise<void> {
  app.get("/v1/assets/:id/variants", async (request) => deps.variants.list(request.caller, idParam(request)));
}
