import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { detectDialect, sqlDialect, type DialectName } from "../dialect/index.js";
import type { SqlDialect } from "../dialect/types.js";
import type { Database } from "../schema.js";
import { initial } from "./001-initial.js";
import { phash } from "./002-phash.js";
import { uploads } from "./003-uploads.js";
import { access } from "./004-access.js";
import { trash } from "./005-trash.js";
import { replicaTier } from "./006-replica-tier.js";
import { graph } from "./007-graph.js";
import { webhooks } from "./008-webhooks.js";
import { eventRetention } from "./009-event-retention.js";
import { prewarm } from "./010-prewarm.js";
import { loginCodes } from "./011-login-codes.js";

/**
 * Migrations are listed here, in code, rather than discovered on disk, so they work from
 * dist/, from a bundle and under tsx alike. Names sort in the order they must run.
 */
function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    "001_initial": initial(dialect),
    "002_phash": phash,
    "003_uploads": uploads,
    "004_access": access,
    "005_trash": trash,
    "006_replica_tier": replicaTier,
    "007_graph": graph,
    "008_webhooks": webhooks,
    "009_event_retention": eventRetention(dialect),
    "010_prewarm": prewarm,
    "011_login_codes": loginCodes,
  };
}

function provider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MigrationError";
  }
}

export interface MigrationReport {
  /** Names of the migrations this call applied (empty when already up to date). */
  applied: string[];
}

/**
 * Brings the schema to the latest version, each migration atomically. Safe to call on
 * every start and from several processes at once: on PostgreSQL the Migrator takes an
 * advisory lock, on SQLite an immediate transaction; a transient failure (see
 * isMigrationRace) is retried a few times, after which the others find nothing to do.
 */
export async function migrate(db: Kysely<Database>, dialectName: DialectName = detectDialect(db)): Promise<MigrationReport> {
  const dialect = sqlDialect(dialectName);
  const migrationTableSchema = await dialect.migrationSchema(db);
  // 008 was added after 009 shipped: a database already at 009 applies it late.
  const migrator = new Migrator({ db, provider: provider(dialect), allowUnorderedMigrations: true, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error, results = [] } = await migrator.migrateToLatest();
    if (!error) return { applied: results.filter((r) => r.status === "Success").map((r) => r.migrationName) };
    if (attempt < 5 && dialect.isMigrationRace(error)) {
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 50));
      continue;
    }
    const failed = results.find((r) => r.status === "Error")?.migrationName;
    const detail = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      failed ? `database migration ${failed} failed: ${detail}` : `database migration failed: ${detail}`,
      { cause: error },
    );
  }
}
