import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { EVENTS, Server, type DataStore, type ServerOptions, type Upload } from "@tus/server";
import { z } from "zod";
import type { Principal } from "../../domain/access.js";
import { AppError, InvalidParameterError, NotFoundError } from "../../domain/errors.js";
import type { UploadService } from "../../services/uploads.js";
import { requirePrincipal } from "../auth.js";
import { toAppError } from "../errors.js";

/**
 * tus 1.0 resumable uploads (creation, creation-with-upload, termination, expiration) at
 * /v1/tus, for tus-js-client and Uppy. The tus upload id is the asset id: creating an
 * upload opens an upload session (size limit, type policy and quota checked, quota
 * reserved), and the last byte completes it like any direct upload.
 */
export interface TusRouteDeps {
  publicUrl: string | undefined;
  /** ["*"] or the exact origins browsers may upload from. */
  corsOrigins: readonly string[];
  maxUploadBytes: number;
  uploads: Pick<UploadService, "open" | "session" | "completeResumable" | "abort">;
  /** Absent: resumable uploads are not offered and /v1/tus answers 404. */
  tus: { datastore: DataStore } | undefined;
}

const TUS_PATH = "/v1/tus";
const TUS_RESUMABLE = "1.0.0";
/** Beyond the tus headers, which @tus/server exposes itself. */
const EXPOSED_HEADERS = ["Asset-Id", "Asset-Status", "Upload-Expires"];

/** The request object @tus/server hands to its hooks. */
type TusRequest = Parameters<NonNullable<ServerOptions["onUploadFinish"]>>[0];

/** What one HTTP request has established, for the hooks tus calls while serving it. */
interface TusCall {
  caller: Principal | null;
  /** The upload the URL names, checked to be the caller's (HEAD, PATCH, DELETE). */
  id: string | undefined;
  /** The session namingFunction opened (POST). */
  opened?: string;
  /** The POST carried the whole upload: complete it once tus has answered. */
  finished?: string;
  /** tus stored the new upload: from here on a failure leaves a resumable upload, not garbage. */
  created?: boolean;
  /** The response body is one of our JSON errors. */
  json?: boolean;
  log: FastifyBaseLogger;
}

const tagsSchema = z.record(z.string().min(1).max(128), z.string().max(1024));

export async function tusRoutes(app: FastifyInstance, deps: TusRouteDeps): Promise<void> {
  const datastore = deps.tus?.datastore;
  if (!datastore) return;
  const calls = new WeakMap<object, TusCall>();
  const callOf = (req: TusRequest): TusCall => {
    const call = calls.get(req);
    if (!call) throw new Error("tus request without a call context");
    return call;
  };
  const publicUrl = deps.publicUrl;
  const anyOrigin = deps.corsOrigins.includes("*");

  // Locking: the default MemoryLocker serialises the requests on one upload within this
  // process only. Several API processes need sticky routing per upload URL (or a shared
  // locker); without either, two PATCHes racing on one upload in two processes can corrupt it.
  const server = new Server({
    path: TUS_PATH,
    datastore,
    maxSize: deps.maxUploadBytes,
    // Location: absolute on the configured public URL (a proxy may add a path prefix), else
    // relative, which tus-js-client and Uppy resolve against the endpoint (RFC 3986).
    relativeLocation: publicUrl === undefined,
    ...(publicUrl !== undefined ? { generateUrl: (_req: TusRequest, url: { path: string; id: string }) => `${publicUrl}${url.path}/${url.id}` } : {}),
    exposedHeaders: EXPOSED_HEADERS,
    ...(anyOrigin ? {} : { allowedOrigins: [...deps.corsOrigins] }),
    // The id the route checked ownership of, never one tus parses from the URL by itself.
    getFileIdFromRequest: (req) => calls.get(req)?.id,
    // PostHandler calls namingFunction first, then checks maxSize, then onUploadCreate, then
    // store.create. The id must exist before anything is stored, so the session opens here.
    namingFunction: async (req, metadata) => {
      const call = callOf(req);
      const size = Number(req.headers.get("upload-length"));
      const { asset } = await deps.uploads.open(call.caller, { ...describeUpload(metadata), size }, { kind: "tus" });
      call.opened = asset.id;
      return asset.id;
    },
    onUploadFinish: async (req, upload: Upload) => {
      // A creation-with-upload POST that carried every byte: PostHandler still reads the
      // upload back after this hook (for Upload-Expires), so completing here, which removes
      // the tus data, would turn the answer into a 404. The route completes after tus.
      if (req.method === "POST") {
        callOf(req).finished = upload.id;
        return {};
      }
      const asset = await deps.uploads.completeResumable(upload.id);
      return { headers: { "Asset-Id": asset.id, "Asset-Status": asset.status } };
    },
    // Hooks and stores throw our AppErrors (or tus's own `{status_code, body}`): ours become
    // the API's JSON errors with their status, anything unexpected a logged, generic 500.
    onResponseError: (req, error) => {
      const call = calls.get(req);
      if (isTusError(error)) return undefined;
      const known = toAppError(error);
      if (call) call.json = true;
      if (known) return { status_code: known.status, body: errorBody(known) };
      call?.log.error({ err: error }, "tus request failed");
      return { status_code: 500, body: errorBody(new AppError("internal", "internal error")) };
    },
  });
  server.on(EVENTS.POST_CREATE, (req) => {
    const call = calls.get(req);
    if (call) call.created = true;
  });

  // Every body here belongs to tus: nothing is parsed or buffered.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));

  // Errors answered before tus (401, 404, 400) still need CORS and the tus version to be
  // readable by browser clients.
  app.addHook("onSend", async (request, reply) => {
    if (anyOrigin && !reply.hasHeader("access-control-allow-origin")) reply.header("Access-Control-Allow-Origin", "*");
    if (request.method !== "OPTIONS" && !reply.hasHeader("tus-resumable")) reply.header("Tus-Resumable", TUS_RESUMABLE);
  });

  // CORS preflight: browsers send it without credentials.
  app.options(TUS_PATH, (request, reply) => serve(request, reply, { caller: null, id: undefined, log: request.log }));
  app.options(`${TUS_PATH}/:id`, (request, reply) => serve(request, reply, { caller: null, id: undefined, log: request.log }));

  app.post(TUS_PATH, async (request, reply) => {
    const caller = requirePrincipal(request.caller);
    if (request.headers["upload-defer-length"] !== undefined) {
      throw new AppError("bad_request", "deferred upload lengths are not supported: send Upload-Length");
    }
    const length = request.headers["upload-length"];
    if (typeof length !== "string" || !/^\d{1,16}$/.test(length)) {
      throw new AppError("bad_request", "Upload-Length must give the upload's size in bytes");
    }
    const call: TusCall = { caller, id: undefined, log: request.log };
    try {
      await serve(request, reply, call, async (response) => {
        if (!call.finished || response.status !== 201) return response;
        try {
          const asset = await deps.uploads.completeResumable(call.finished);
          response.headers.set("Asset-Status", asset.status);
          return response;
        } catch (error) {
          const known = toAppError(error);
          if (!known) throw error;
          call.json = true;
          return new Response(errorBody(known), { status: known.status });
        }
      });
    } finally {
      // Opened, then refused before anything was stored (a store failure, a lock timeout):
      // close the session so it holds no quota and leaves no pending asset.
      if (call.opened && !call.created) {
        await deps.uploads.abort(caller, call.opened).catch((error: unknown) => {
          request.log.warn({ err: error, assetId: call.opened }, "could not close a tus session whose creation failed");
        });
      }
    }
    return reply;
  });

  for (const method of ["HEAD", "PATCH", "DELETE"] as const) {
    app.route({
      method,
      url: `${TUS_PATH}/:id`,
      handler: async (request, reply) => {
        const caller = requirePrincipal(request.caller);
        const id = (request.params as { id: string }).id;
        const session = await deps.uploads.session(id);
        // Someone else's upload, a finished one and a made-up id all look the same.
        if (!session || session.kind !== "tus" || (session.owner !== caller.sub && !caller.admin)) {
          throw new NotFoundError("upload");
        }
        const call: TusCall = { caller, id, log: request.log };
        return serve(request, reply, call, (response) => after(method, call, response));
      },
    });
  }

  /** What the route adds once tus has answered; may replace the answer. */
  async function after(method: "HEAD" | "PATCH" | "DELETE", call: TusCall, response: Response): Promise<Response> {
    const id = call.id!;
    if (method === "DELETE" && (response.status === 204 || response.status === 404)) {
      // tus removed the bytes (under its lock, stopping a PATCH in flight), or found none;
      // now the session: quota released, asset deleted. Done before answering, so that the
      // client's next read agrees.
      await deps.uploads.abort(call.caller, id);
      if (response.status === 404) return new Response(null, { status: 204, headers: { "Tus-Resumable": TUS_RESUMABLE } });
    }
    if (method === "HEAD" && response.status === 200) {
      const offset = response.headers.get("upload-offset");
      if (offset !== null && offset === response.headers.get("upload-length")) {
        // Every byte arrived but the session is still open: the PATCH that completed it lost
        // its answer (crash, timeout, store briefly down). A client that resumes now takes
        // "offset = length" for success, so complete here; a failure is answered instead.
        const asset = await deps.uploads.completeResumable(id);
        response.headers.set("Asset-Id", asset.id);
        response.headers.set("Asset-Status", asset.status);
      }
    }
    return response;
  }

  /** Hands the request to tus and relays its answer through Fastify (hooks, metrics, CORS). */
  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    call: TusCall,
    post?: (response: Response) => Promise<Response>,
  ): Promise<FastifyReply> {
    const tusRequest = toTusRequest(request, reply, call.id === undefined ? TUS_PATH : `${TUS_PATH}/${encodeURIComponent(call.id)}`);
    calls.set(tusRequest, call);
    let response = await server.handleWeb(tusRequest);
    if (post) response = await post(response);

    for (const [name, value] of response.headers) {
      if (name === "content-length" || (name === "content-type" && call.json)) continue;
      reply.header(name, value);
    }
    if (call.json) reply.type("application/json");
    if (call.opened && response.status === 201) {
      reply.header("Asset-Id", call.opened);
      if (!response.headers.has("asset-status")) reply.header("Asset-Status", "pending");
    }
    // Answered before the body was read (an offset conflict, a refused upload): close rather
    // than read and discard the rest.
    if (!request.raw.complete) reply.header("Connection", "close");
    const body = await response.text();
    return reply.code(response.status).send(body === "" ? undefined : body);
  }
}

/**
 * The request as @tus/server's handlers see it. Its `runtime.node` is what srvx's NodeRequest
 * carries: tus listens there for a client that disconnects mid-PATCH and then keeps what
 * arrived (the S3 store saves the tail as an incomplete part) instead of failing the write.
 */
function toTusRequest(request: FastifyRequest, reply: FastifyReply, path: string): TusRequest {
  const raw = request.raw;
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const withBody = raw.method === "POST" || raw.method === "PATCH";
  // The URL is only for show: ids come from getFileIdFromRequest, Location from the options,
  // so the client's Host header (which might not even parse) never reaches it.
  const web = new Request(`http://assetd.invalid${path}`, {
    method: raw.method ?? "GET",
    headers,
    ...(withBody ? { body: Readable.toWeb(raw) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
  return Object.assign(web, { runtime: { name: "node", node: { req: raw, res: reply.raw } } }) as TusRequest;
}

/** Upload-Metadata as tus-js-client and Uppy send it: filename/name, filetype/type, plus ours. */
function describeUpload(metadata: Record<string, string | null> | undefined) {
  const value = (...keys: string[]): string | undefined => {
    for (const key of keys) {
      const v = metadata?.[key];
      if (v !== undefined && v !== null && v !== "") return v;
    }
    return undefined;
  };
  return {
    filename: value("filename", "name") ?? "",
    contentType: value("filetype", "type") ?? "application/octet-stream",
    sha256: value("sha256"),
    public: parseBool(value("public")),
    tags: parseTags(value("tags")),
  };
}

function parseBool(value: string | undefined): boolean {
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw new InvalidParameterError("public", "the 'public' metadata must be true or false");
}

function parseTags(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new InvalidParameterError("tags", "the 'tags' metadata must be a JSON object of strings");
  }
  const parsed = tagsSchema.safeParse(json);
  if (!parsed.success) throw new InvalidParameterError("tags", "the 'tags' metadata must be a JSON object of strings");
  return parsed.data;
}

/** tus's own protocol errors: `{status_code, body}` objects from ERRORS. */
function isTusError(error: unknown): boolean {
  return typeof error === "object" && error !== null && !(error instanceof Error) && "status_code" in error && "body" in error;
}

function errorBody(error: AppError): string {
  return JSON.stringify({ error: { code: error.code, message: error.message, ...error.details } });
}
