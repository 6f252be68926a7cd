import { PERMISSIONS } from "../../domain/grants.js";
import { prewarmSchema, quotaSchema, reprocessSchema } from "../routes/admin.js";
import { passSchema } from "../routes/store-care.js";
import { subscribeSchema } from "../routes/webhooks.js";
import { loginCodeSchema } from "../routes/login.js";
import { empty, errors, items, json, jsonBody, LOCATION, object, PUBLIC, type RouteDocs } from "./route-doc.js";
import { jsonOf, parameters, pathParams, ref } from "./schema.js";

const id = pathParams({ id: "the asset id" });
const webhookId = pathParams({ id: "the subscription id" });
const grants = { type: "object", properties: { grants: { type: "array", items: ref("Grant") } }, required: ["grants"] };
const admin = (summary: string, rest: Partial<RouteDocs[string]> = {}): RouteDocs[string] => ({
  summary, tags: ["admin"], response: { 200: json("the result", object(summary)), ...errors(400, 403) }, ...rest,
});

export const MANAGE_DOCS: RouteDocs = {
  "GET /v1/assets/:id/acl": {
    summary: "An asset's grants", tags: ["sharing"], params: id,
    response: { 200: json("the grants", grants), ...errors(403, 404) },
  },
  "PUT /v1/assets/:id/acl": {
    summary: "Replace an asset's grants", tags: ["sharing"], params: id, body: jsonBody(grants),
    response: { 200: json("the grants now", grants), ...errors(400, 403, 404) },
  },
  "POST /v1/assets/:id/acl": {
    summary: "Add a grant", tags: ["sharing"], params: id, body: jsonBody(ref("Grant")),
    response: { 201: json("the grant", ref("Grant")), ...errors(400, 403, 404) },
  },
  "DELETE /v1/assets/:id/acl": {
    summary: "Remove a grant", tags: ["sharing"], params: id,
    querystring: { ...parameters({ principal: "a user id, group:<name> or *", permission: { type: "string", enum: [...PERMISSIONS] } }), required: ["principal", "permission"] },
    response: { 204: empty("removed"), ...errors(400, 403, 404) },
  },
  "POST /v1/assets/:id/signed-url": {
    summary: "Sign a delivery URL", description: "Needs read permission only.", tags: ["sharing"], params: id,
    body: jsonBody({
      type: "object",
      properties: {
        query: { type: "string", description: "a transform query such as w=300&fmt=webp; none: the original" },
        expiresIn: { type: "integer", minimum: 1, maximum: 604800, default: 3600, description: "seconds" },
        hls: { type: "boolean", description: "sign the HLS master playlist (and the URIs inside it)" },
        dash: { type: "boolean", description: "sign the DASH manifest (and the segment URLs inside it); not with hls" },
      },
      additionalProperties: false,
    }),
    optionalBody: true,
    response: {
      201: json("the signed URL", { type: "object", properties: { url: { type: "string" }, expiresAt: { type: "string", format: "date-time" } }, required: ["url", "expiresAt"] }),
      ...errors(400, 404),
    },
  },
  "POST /v1/webhooks": {
    summary: "Subscribe to asset events", tags: ["webhooks"], body: jsonBody(jsonOf(subscribeSchema)),
    response: { 201: json("the subscription, with its secret (shown only here)", ref("Webhook"), LOCATION), ...errors(400, 403, 422) },
  },
  "GET /v1/webhooks": {
    summary: "The caller's subscriptions", tags: ["webhooks"],
    response: { 200: json("subscriptions (no secrets)", items(ref("Webhook"))), ...errors() },
  },
  "GET /v1/webhooks/:id": {
    summary: "One subscription", tags: ["webhooks"], params: webhookId,
    response: { 200: json("the subscription", ref("Webhook")), ...errors(404) },
  },
  "DELETE /v1/webhooks/:id": {
    summary: "Unsubscribe (and drop the delivery log)", tags: ["webhooks"], params: webhookId,
    response: { 204: empty("removed"), ...errors(404) },
  },
  "GET /v1/webhooks/:id/deliveries": {
    summary: "The delivery log, newest first", tags: ["webhooks"], params: webhookId,
    querystring: parameters({ limit: { type: "integer", minimum: 1, maximum: 200, default: 50 } }),
    response: { 200: json("deliveries with their attempts", items(object("a delivery"))), ...errors(400, 404) },
  },
  "POST /v1/webhooks/:id/deliveries/:deliveryId/retry": {
    summary: "Send a delivery again", tags: ["webhooks"],
    params: pathParams({ id: "the subscription id", deliveryId: "the delivery id" }),
    response: { 202: json("queued", object("the delivery")), ...errors(404, 409) },
  },
  "GET /v1/stats": {
    summary: "Asset counts, bytes and queue depths", description: "Admins: the whole service; users: their own assets and quota.", tags: ["service"],
    response: { 200: json("the statistics", object("stats")), ...errors() },
  },
  "GET /v1/admin/jobs": admin("Jobs by state", {
    querystring: parameters({
      state: { type: "string", enum: ["waiting", "active", "done", "dead"], default: "dead" },
      limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
    }),
    response: { 200: json("jobs", items(object("a job"))), ...errors(400, 403) },
  }),
  "POST /v1/admin/jobs/:id/retry": admin("Give a dead job a fresh set of attempts", {
    params: pathParams({ id: "the job id" }),
    response: { 200: json("retried", { type: "object", properties: { id: { type: "string" }, retried: { type: "boolean" } } }), ...errors(403, 404, 409) },
  }),
  "POST /v1/admin/reprocess": admin("Re-run metadata extraction for ready assets", { body: jsonBody(jsonOf(reprocessSchema)), optionalBody: true }),
  "GET /v1/admin/quotas": admin("Every owner's quota", {
    response: { 200: json("quotas", items(ref("Quota"), { defaultMaxBytes: { type: ["integer", "null"] } })), ...errors(403) },
  }),
  "GET /v1/admin/quotas/:owner": admin("One owner's quota", {
    params: pathParams({ owner: "the owner's principal" }),
    response: { 200: json("the quota", ref("Quota")), ...errors(400, 403) },
  }),
  "PUT /v1/admin/quotas/:owner": admin("Set an owner's limit (null: back to the default)", {
    params: pathParams({ owner: "the owner's principal" }),
    body: jsonBody(jsonOf(quotaSchema)),
    response: { 200: json("the quota", ref("Quota")), ...errors(400, 403) },
  }),
  "POST /v1/admin/sweep": admin("Close expired upload sessions now", {
    response: { 200: json("what was removed", { type: "object", properties: { sessions: { type: "integer" }, multipart: { type: "integer" }, objects: { type: "integer" } } }), ...errors(403) },
  }),
  "POST /v1/admin/gc": admin("Run garbage collection now", {
    body: jsonBody({ type: "object", properties: { dryRun: { type: "boolean", description: "report without removing" } } }),
    optionalBody: true,
  }),
  "POST /v1/admin/tokens/revoke": admin("Revoke a token", {
    description: "Every API process sharing the database answers 401 token_revoked for it from now on.",
    body: jsonBody({
      oneOf: [
        { type: "object", properties: { jti: { type: "string", minLength: 1, maxLength: 128 } }, required: ["jti"], additionalProperties: false },
        { type: "object", properties: { token: { type: "string", minLength: 1 } }, required: ["token"], additionalProperties: false },
      ],
    }),
    response: { 204: empty("revoked"), ...errors(400, 403) },
  }),
  "POST /v1/admin/login-codes": admin("Mint a one-time console sign-in link", {
    description: "A random code (256 bits, base64url) valid 10 minutes, stored only as its SHA-256, and the console URL carrying it in the fragment (<base>/#login=<code>), which browsers never send. Without sub: for the caller; with sub: for that principal (admin only if admin is true).",
    body: jsonBody(jsonOf(loginCodeSchema)),
    optionalBody: true,
    response: {
      201: json("the link", {
        type: "object",
        properties: { url: { type: "string" }, code: { type: "string" }, expiresAt: { type: "string", format: "date-time" } },
        required: ["url", "code", "expiresAt"],
      }),
      ...errors(400, 403),
    },
  }),
  "POST /v1/admin/prewarm": admin("Queue renders of the recipes predicted for ready assets now", {
    description: "For one ready asset (assetId) or every ready asset of an owner: the recipes most requested on the owner's assets of the same type in ASSETD_PREWARM_WINDOW_DAYS, those the asset lacks, up to top per asset. dryRun reports without queueing.",
    body: jsonBody(jsonOf(prewarmSchema)),
    optionalBody: true,
    response: { 200: json("the prewarm report", object("report")), ...errors(400, 403, 404, 409) },
  }),
  "POST /v1/admin/scrub": admin("Re-hash stored originals now", { body: jsonBody(jsonOf(passSchema)), optionalBody: true }),
  "POST /v1/admin/lifecycle": admin("Move unread originals to the cold tier now", {
    body: jsonBody(jsonOf(passSchema)),
    optionalBody: true,
    response: { 200: json("the lifecycle report", object("report")), ...errors(400, 403, 409) },
  }),
  "POST /v1/auth/login": {
    summary: "Exchange a one-time sign-in code for a session token",
    description: "No token needed. The code is marked used by one conditional update, so it signs in at most once, even when redeemed concurrently. The token lasts 12 hours and names the code's principal and role.",
    tags: ["auth"], security: PUBLIC,
    body: jsonBody({ type: "object", properties: { code: { type: "string", maxLength: 128 } }, required: ["code"] }),
    response: {
      200: json("the session", {
        type: "object",
        properties: { token: { type: "string" }, expiresAt: { type: "string", format: "date-time" }, sub: { type: "string" } },
        required: ["token", "expiresAt", "sub"],
      }),
      ...errors(),
      401: { description: "login_code_invalid: the code is unknown, already used or expired (one answer for all three)", content: { "application/json": { schema: ref("Error") } } },
    },
  },
};
