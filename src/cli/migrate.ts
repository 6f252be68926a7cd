import { loadConfig } from "../config/index.js";
import { migrate, openDatabase } from "../db/connect.js";

export async function migrateCommand(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  try {
    await migrate(database.db);
    process.stdout.write(`database schema is up to date (${database.dialect})\n`);
  } finally {
    await database.close();
  }
}
