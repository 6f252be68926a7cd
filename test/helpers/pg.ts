/**
 * Where the scale suites reach PostgreSQL. Databases are created and dropped directly on
 * the server (`ASSETD_TEST_PG_URL`), but the servers under test connect through pgbouncer
 * in transaction pooling mode when `ASSETD_TEST_PGBOUNCER_URL` is set (scripts/
 * pgbouncer-test-server.sh prints it), as a deployment at scale would.
 */
export const PG_URL = process.env.ASSETD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const PGBOUNCER_URL = process.env.ASSETD_TEST_PGBOUNCER_URL || undefined;

/** The URL a server under test uses for database `name`: through pgbouncer when there is one. */
export function serverDatabaseUrl(name: string): string {
  const url = new URL(PGBOUNCER_URL ?? PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Drops a test database. Through pgbouncer, idle server connections to it stay open after
 * the servers closed theirs; they are pooler-side and idle, so forcing them is safe once the
 * servers under test have stopped.
 */
export async function dropTestDatabase(admin: { query(text: string): Promise<unknown> }, name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await admin.query(PGBOUNCER_URL && attempt > 2 ? `drop database if exists ${name} with (force)` : `drop database if exists ${name}`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await admin.query(`drop database if exists ${name} with (force)`);
}
