import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { InvalidParameterError } from "../../domain/errors.js";
import { WEBHOOK_EVENTS } from "../../domain/webhooks.js";
import type { WebhookService } from "../../services/webhooks.js";
import { requirePrincipal } from "../auth.js";
import { idParam, parseBody, single, type QueryParams } from "../params.js";

export interface WebhookRouteDeps {
  webhooks: WebhookService;
}

export const subscribeSchema = z.object({
  url: z.string().min(1).max(2048),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length * 2),
  owner: z.string().min(1).max(256).optional(),
}).strict();

const MAX_DELIVERIES = 200;

function deliveryLimit(request: FastifyRequest): number {
  const text = single(request.query as QueryParams, "limit");
  if (text === undefined) return 50;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_DELIVERIES) throw new InvalidParameterError("limit", `limit is a whole number from 1 to ${MAX_DELIVERIES}`);
  return limit;
}

/**
 * Webhook subscriptions and their delivery log (DESIGN §10 "Interfaces and integrations").
 * A failed delivery is sent again by `POST …/deliveries/:deliveryId/retry` (or, once
 * dead-lettered, by retrying its job through `POST /v1/admin/jobs/:id/retry`).
 */
export async function webhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const { webhooks } = deps;

  app.post("/v1/webhooks", async (request, reply) => {
    const caller = requirePrincipal(request.caller);
    const body = parseBody(subscribeSchema, request.body);
    const created = await webhooks.subscribe(caller, body);
    return reply.code(201).header("Location", `/v1/webhooks/${created.id}`).send(created);
  });

  app.get("/v1/webhooks", async (request) => ({ items: await webhooks.list(requirePrincipal(request.caller)) }));

  app.get("/v1/webhooks/:id", async (request) => webhooks.get(requirePrincipal(request.caller), idParam(request)));

  app.delete("/v1/webhooks/:id", async (request, reply) => {
    await webhooks.remove(requirePrincipal(request.caller), idParam(request));
    return reply.code(204).send();
  });

  app.get("/v1/webhooks/:id/deliveries", async (request) => ({
    items: await webhooks.deliveries(requirePrincipal(request.caller), idParam(request), deliveryLimit(request)),
  }));

  app.post("/v1/webhooks/:id/deliveries/:deliveryId/retry", async (request, reply) => {
    const { deliveryId } = request.params as { deliveryId: string };
    return reply.code(202).send(await webhooks.replay(requirePrincipal(request.caller), idParam(request), deliveryId));
  });
}
