import type { Kysely } from "kysely";
import type { BlobRepo } from "../../ports/repos.js";
import { toBlobRow } from "../rows.js";
import type { Database } from "../schema.js";

export function createBlobRepo(db: Kysely<Database>): BlobRepo {
  return {
    async get(sha256) {
      const row = await db.selectFrom("blob").selectAll().where("sha256", "=", sha256).executeTakeFirst();
      return row && toBlobRow(row);
    },

    async removeIfUnreferenced(sha256) {
      // The refcount test is in the same statement as the delete, so an ingest that
      // revives the blob concurrently either wins (row kept) or finds no row and inserts.
      const result = await db.deleteFrom("blob").where("sha256", "=", sha256).where("refcount", "=", 0).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
