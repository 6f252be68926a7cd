import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openDatabase, parseDatabaseUrl } from "./connect.js";

describe("parseDatabaseUrl", () => {
  it("sends postgres URLs to PostgreSQL and everything path-like to SQLite", () => {
    expect(parseDatabaseUrl("postgres://u:p@db:5432/assetd")).toEqual({ dialect: "postgres", target: "postgres://u:p@db:5432/assetd" });
    expect(parseDatabaseUrl("postgresql://db/assetd").dialect).toBe("postgres");
    expect(parseDatabaseUrl("sqlite:///var/lib/assetd/meta.db")).toEqual({ dialect: "sqlite", target: "/var/lib/assetd/meta.db" });
    expect(parseDatabaseUrl("sqlite:data/meta.db")).toEqual({ dialect: "sqlite", target: "data/meta.db" });
    expect(parseDatabaseUrl("sqlite://./data/meta.db")).toEqual({ dialect: "sqlite", target: "./data/meta.db" });
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ dialect: "sqlite", target: ":memory:" });
    expect(parseDatabaseUrl("file:///tmp/x.db")).toEqual({ dialect: "sqlite", target: "/tmp/x.db" });
    expect(parseDatabaseUrl("./data/meta.db")).toEqual({ dialect: "sqlite", target: "./data/meta.db" });
  });

  it("rejects URLs it cannot serve", () => {
    expect(() => parseDatabaseUrl("sqlite:")).toThrow(/no SQLite file/);
    expect(() => parseDatabaseUrl("mysql://db/assetd")).toThrow(/unsupported/);
  });
});

describe("openDatabase", () => {
  it("opens SQLite in WAL mode with the pragmas several processes need, creating the directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "assetd-connect-"));
    try {
      const handle = await openDatabase(`sqlite:${join(dir, "nested", "meta.db")}`);
      expect(handle.dialect).toBe("sqlite");
      const pragma = async (name: string) => {
        const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(handle.db);
        return Object.values(rows[0]!)[0];
      };
      expect(await pragma("journal_mode")).toBe("wal");
      expect(await pragma("busy_timeout")).toBe(5000);
      expect(await pragma("synchronous")).toBe(1); // NORMAL
      expect(await pragma("foreign_keys")).toBe(1);
      await handle.close();
      await handle.close(); // idempotent
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fails at once, naming the database without its password, when PostgreSQL cannot be reached", async () => {
    const failure = openDatabase("postgres://someone:s3cret@127.0.0.1:1/assetd");
    await expect(failure).rejects.toThrow(/cannot open the postgres database \(postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/assetd\)/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });
});
