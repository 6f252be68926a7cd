import { Kysely, sql, type CompiledQuery } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { sqlDialect } from "../../src/db/dialect/index.js";
import { createRepos } from "../../src/db/repos.js";
import { listQuery } from "../../src/db/repos/assets.js";
import { expiredEventsQuery } from "../../src/db/repos/event-log.js";
import type { Database } from "../../src/db/schema.js";
import { visibilityOf } from "../../src/domain/access.js";
import { createTestDatabase, probePostgres, PG_URL, type TestDatabase } from "./databases.js";

const ROWS = 1_000_000;
const MINUTE = 60_000;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The plan as indented lines, for the log: node, relation, index, condition, estimate. */
function tree(plan: PlanNode, depth = 0): string {
  const extra = plan as unknown as Record<string, unknown>;
  const cond = extra["Index Cond"] ?? extra["Filter"];
  const line = `${"  ".repeat(depth)}${describeLine(plan)}${cond ? ` [${String(cond)}]` : ""} (cost ${String(extra["Total Cost"])}, rows ${String(extra["Plan Rows"])})`;
  return [line, ...(plan.Plans ?? []).map((p) => tree(p, depth + 1))].join("\n");
}

const describeLine = (n: PlanNode) => `${n["Node Type"]}${n["Relation Name"] ? ` on ${n["Relation Name"]}` : ""}${n["Index Name"] ? ` using ${n["Index Name"]}` : ""}`;

/**
 * The queries that run on every request or on every sweep stay index lookups on tables
 * of a million rows (PostgreSQL): the listing, the delivery lookup and the retention
 * pass's time range over the event log (BRIN). Plans come from `EXPLAIN (FORMAT JSON)` of
 * the SQL the repositories themselves send.
 */
const skip = await probePostgres();
if (skip) console.warn(`[scale-plan] skipping: ${skip}`);

describe.skipIf(skip !== undefined)("query plans on a million rows (PostgreSQL)", () => {
  let database: TestDatabase;
  let logged: Kysely<Database>;
  const sent: CompiledQuery[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    const db = database.handle.db;
    const started = Date.now();
    // A million assets of 1000 owners in creation order (ids are ULIDs, so id order is time
    // order), and a million events appended a minute apart over their lifetimes.
    await sql`
      insert into asset (id, owner, filename, kind, status, public, created_at, updated_at)
      select 'A' || lpad(n::text, 25, '0'), 'owner' || (n % 1000)::text, 'f.jpg', 'image', 'ready',
             case when n % 10 = 0 then 1 else 0 end, n::bigint * ${MINUTE}, n::bigint * ${MINUTE}
      from generate_series(1, ${ROWS}) as g(n)
    `.execute(db);
    await sql`
      insert into asset_event (asset_id, from_status, to_status, reason, at)
      select 'A' || lpad(((n::bigint * 7919) % ${ROWS} + 1)::text, 25, '0'), 'verified', 'ready', 'metadata extracted', n::bigint * ${MINUTE}
      from generate_series(1, ${ROWS}) as g(n)
    `.execute(db);
    await sql`analyze asset`.execute(db);
    await sql`analyze asset_event`.execute(db);
    console.log(`[scale-plan] loaded ${ROWS} assets and ${ROWS} events in ${Date.now() - started} ms`);
    // A second handle on the same schema that records the SQL the repositories send.
    logged = new Kysely<Database>({
      dialect: sqlDialect("postgres").createDialect(PG_URL, database.options),
      log: (event) => { if (event.level === "query") sent.push(event.query); },
    });
  }, 600_000);
  afterAll(async () => {
    await logged?.destroy();
    await database?.dispose();
  });

  async function explain(query: CompiledQuery): Promise<PlanNode> {
    const { rows } = await database.handle.db.executeQuery<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(
      { ...query, sql: `explain (format json) ${query.sql}` });
    const plan = rows[0]!["QUERY PLAN"][0]!.Plan;
    console.log(`[scale-plan] ${query.sql}\n${tree(plan)}`);
    return plan;
  }

  function expectNoSeqScan(plan: PlanNode, table: string) {
    const all = nodes(plan);
    expect(all.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === table).map(describeLine)).toEqual([]);
  }

  async function sentBy(action: () => Promise<unknown>): Promise<CompiledQuery[]> {
    sent.length = 0;
    await action();
    return [...sent];
  }

  it("lists an owner's assets newest first by walking the primary key", async () => {
    const query = listQuery(database.handle.db, {}, visibilityOf({ sub: "owner7", groups: [], admin: false }), { limit: 101 }).compile();
    const plan = await explain(query);
    expectNoSeqScan(plan, "asset");
    expect(nodes(plan).map(describeLine)).toContain("Index Scan on asset using asset_pkey");
    expect(nodes(plan).some((n) => n["Node Type"] === "Sort")).toBe(false);
  });

  it("finds one asset for delivery through its primary key", async () => {
    const repos = createRepos(logged, "postgres");
    const [query] = await sentBy(() => repos.assets.get("A" + "500000".padStart(25, "0"), { tags: false }));
    const plan = await explain(query!);
    expectNoSeqScan(plan, "asset");
    expect(describeLine(plan)).toBe("Index Scan on asset using asset_pkey");
  });

  it("finds a time range of the event log through its BRIN index", async () => {
    // The retention pass's batch: events older than a cutoff 5% into the log.
    const plan = await explain(expiredEventsQuery(database.handle.db, ROWS * 0.05 * MINUTE, 5000).compile());
    expectNoSeqScan(plan, "asset_event");
    expect(nodes(plan).map(describeLine)).toContain("Bitmap Index Scan using asset_event_at_brin");

    const repos = createRepos(logged, "postgres");
    const [deletion] = await sentBy(() => repos.eventLog.pruneBefore(0, 5000));
    expectNoSeqScan(await explain(deletion!), "asset_event");
  });

  it("prunes the oldest events in batches and keeps the rest", async () => {
    const repos = createRepos(database.handle.db, "postgres");
    const cutoff = 12_000 * MINUTE; // events 1..11999 are older
    expect(await repos.eventLog.pruneBefore(cutoff, 5000)).toBe(5000);
    expect(await repos.eventLog.pruneBefore(cutoff, 5000)).toBe(5000);
    expect(await repos.eventLog.pruneBefore(cutoff, 5000)).toBe(1999);
    expect(await repos.eventLog.pruneBefore(cutoff, 5000)).toBe(0);
    const { rows } = await sql<{ n: number; oldest: number }>`select count(*)::int as n, min(at) as oldest from asset_event`.execute(database.handle.db);
    expect(rows[0]).toEqual({ n: ROWS - 11_999, oldest: cutoff });
  }, 60_000);
});
