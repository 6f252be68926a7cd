import type { FastifyInstance } from "fastify";
import type { Query } from "../../domain/recipe.js";
import type { StoryboardService } from "../../services/storyboard.js";
import type { SignedUrlService } from "../../services/signed-urls.js";
import { clientKey } from "../client-key.js";
import { cacheControl, cacheDetail } from "../delivery-headers.js";
import { idParam, signedParts } from "../params.js";
import { sendRanged } from "../ranges.js";

export interface StoryboardRouteDeps {
  storyboards: Pick<StoryboardService, "sprite" | "vtt">;
  signedUrls: Pick<SignedUrlService, "check" | "privateCacheControl" | "storyboard">;
}

/**
 * `GET|HEAD /a/:id/storyboard.jpg` (a sprite of frames in a grid) and
 * `/a/:id/storyboard.vtt` (WebVTT cues `storyboard.jpg#xywh=x,y,w,h`), with optional
 * `n`, `w`, `cols`. Content-derived like every variant, hence cached as immutable for
 * public assets; through a signed VTT URL the sprite URIs inside it are signed too.
 */
export async function storyboardRoutes(app: FastifyInstance, deps: StoryboardRouteDeps): Promise<void> {
  for (const kind of ["jpg", "vtt"] as const) {
    app.route({
      method: ["GET", "HEAD"],
      url: `/a/:id/storyboard.${kind}`,
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const [path, query] = signedParts(request);
        const pass = deps.signedUrls.check(path, query);
        const id = idParam(request);
        const access = { signed: pass !== undefined, client: request.caller?.admin ? undefined : clientKey(request) };
        const file = kind === "jpg"
          ? await deps.storyboards.sprite(request.caller, id, request.query as Query, access)
          : await deps.storyboards.vtt(request.caller, id, request.query as Query, access);
        reply.header("Cache-Control", cacheControl(file.asset.public, pass, deps.signedUrls));
        reply.header("X-Content-Type-Options", "nosniff");
        cacheDetail(request, reply, file.cache, file.renderMs);
        const data = pass && kind === "vtt" ? Buffer.from(deps.signedUrls.storyboard(file.data.toString("utf8"), path, pass)) : file.data;
        // A signed VTT's bytes depend on its expiry: so does its tag.
        const etag = pass && kind === "vtt" ? `"${file.cacheKey}-${pass.expiresAt}"` : `"${file.cacheKey}"`;
        return sendRanged(request, reply, {
          etag, size: data.length, contentType: file.contentType,
          open: (range) => (range ? data.subarray(range.start, range.end + 1) : data),
        });
      },
    });
  }
}
