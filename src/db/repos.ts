import { sql, type Kysely } from "kysely";
import type { Clock } from "../ports/clock.js";
import type { Repos } from "../ports/repos.js";
import { sqlDialect, type DialectName } from "./dialect/index.js";
import { createAclRepo, createTokenRepo } from "./repos/acl.js";
import { createAssetRepo } from "./repos/assets.js";
import { createBlobRepo } from "./repos/blobs.js";
import { createCounterRepo, createGcRepo } from "./repos/gc.js";
import { createTrashRepo } from "./repos/trash.js";
import { createPassRepo } from "./repos/passes.js";
import { createPrewarmRepo } from "./repos/prewarm.js";
import { createLoginCodeRepo } from "./repos/login-codes.js";
import { createEventLogRepo } from "./repos/event-log.js";
import { recordIngest, softDelete } from "./repos/ingest.js";
import { createQuotaRepo } from "./repos/quotas.js";
import { stats } from "./repos/stats.js";
import { createUploadRepo } from "./repos/uploads.js";
import { createVariantRepo } from "./repos/variants.js";
import { createWebhookRepo } from "./repos/webhooks.js";
import type { Database } from "./schema.js";

/**
 * The `Repos` port over Kysely, one implementation for SQLite and PostgreSQL. Every method
 * that writes more than one row runs in one transaction; on SQLite those take the write
 * lock up front (dialect/sqlite-transactions.ts).
 *
 * The queries are portable but for what the dialect module provides (the similarity
 * search's Hamming distance). `_clock` is accepted so every database adapter is built the
 * same way; each write carries its own `at` from the service, which keeps event times and
 * row times equal.
 */
export function createRepos(db: Kysely<Database>, dialect: DialectName, _clock?: Clock): Repos {
  return {
    assets: createAssetRepo(db, sqlDialect(dialect)),
    blobs: createBlobRepo(db),
    variants: createVariantRepo(db),
    uploads: createUploadRepo(db),
    quotas: createQuotaRepo(db),
    acl: createAclRepo(db),
    tokens: createTokenRepo(db),
    trash: createTrashRepo(db),
    gc: createGcRepo(db),
    counters: createCounterRepo(db),
    passes: createPassRepo(db),
    eventLog: createEventLogRepo(db),
    webhooks: createWebhookRepo(db),
    prewarm: createPrewarmRepo(db),
    loginCodes: createLoginCodeRepo(db),
    recordIngest: (record) => recordIngest(db, record),
    softDelete: (id, from, reason, at) => softDelete(db, id, from, reason, at),
    stats: (owner) => stats(db, owner),
    async ping() {
      await sql`select 1`.execute(db);
    },
    // Kysely's destroy is idempotent, so this and DatabaseHandle.close may both be called.
    close: () => db.destroy(),
  };
}
