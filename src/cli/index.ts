import { Command, InvalidArgumentError } from "commander";
import { ConfigError } from "../config/index.js";
import { registerClientCommands } from "./client-commands.js";
import { packageVersion } from "./version.js";

// The server's modules (database drivers, sharp, pdfjs, the AWS SDK) load only for the
// commands that run a server, so client commands start fast.
const serveCommand = async (roles: { api: boolean; worker: boolean }, options: { printToken?: boolean } = {}) =>
  (await import("./serve.js")).serveCommand(roles, options);
const migrateCommand = async () => (await import("./migrate.js")).migrateCommand();
const gcCommand = async (options: { dryRun?: boolean }) => (await import("./gc.js")).gcCommand(options);
const tokenCommand = async (options: Parameters<typeof import("./token.js").tokenCommand>[0]) => (await import("./token.js")).tokenCommand(options);

const program = new Command("assetd")
  .description("Self-hostable digital-asset service: content-addressed storage and on-demand variants")
  .version(packageVersion(), "-V, --version", "print the version")
  .showHelpAfterError();

program.command("serve")
  .description("run the HTTP API and the background workers (the embedded default)")
  .option("--no-worker", "run the API only; jobs are left to `assetd worker` processes")
  .option("--print-token", "print an admin token in the banner (it is printed by itself only on the first start)")
  .action((options: { worker: boolean; printToken?: boolean }) => serveCommand({ api: true, worker: options.worker }, { printToken: options.printToken }));

program.command("worker")
  .description("run background workers only")
  .action(() => serveCommand({ api: false, worker: true }));

program.command("migrate")
  .description("create or upgrade the metadata database schema")
  .action(migrateCommand);

program.command("gc")
  .description("collect unreferenced content, expired trash, orphaned objects and staging leftovers now (JSON report)")
  .option("--dry-run", "report what would be removed without removing anything")
  .action(gcCommand);

program.command("token")
  .description("mint a bearer token signed with the service's secret, or revoke one")
  .option("--sub <principal>", "the principal (owner) the token speaks for")
  .option("--admin", "grant the admin role (bypasses ownership checks)", false)
  .option("--group <name...>", "groups the principal belongs to")
  .option("--scope <scope...>", "narrow the token: asset:read, asset:write, admin (default: all its role allows)", (v, previous: string[] = []) => {
    if (!["asset:read", "asset:write", "admin"].includes(v)) throw new InvalidArgumentError("one of asset:read, asset:write, admin");
    return [...previous, v];
  })
  .option("--ttl <seconds>", "lifetime in seconds (default: 30 days)", (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("a positive whole number of seconds");
    return Number(v);
  })
  .option("--no-expiry", "mint a token that never expires (revoke it with --revoke)")
  .option("--revoke <token-or-jti>", "refuse this token from now on (401 token_revoked)")
  .action(tokenCommand);

program.command("login-link")
  .description("print a one-time sign-in link for the web console (valid 10 minutes)")
  .option("--sub <principal>", "the principal the console signs in as (default: admin)")
  .option("--admin", "with --sub: the session is an admin's")
  .action(async (options: { sub?: string; admin?: boolean }) => (await import("./login-link.js")).loginLinkCommand(options));

const passCommand = async (pass: "scrub" | "lifecycle", options: { limit?: number }) =>
  (await import("./store-care.js")).storeCarePassCommand(pass, options);
const limitOption = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("a positive whole number");
  return Number(v);
};

program.command("scrub")
  .description("re-hash stored originals, least recently verified first; repair from the replica or mark assets corrupt")
  .option("--limit <n>", "originals to check in this pass (default 1000)", limitOption)
  .action((options: { limit?: number }) => passCommand("scrub", options));

program.command("lifecycle")
  .description("move originals not read for ASSETD_COLD_AFTER_DAYS to the cold tier")
  .option("--limit <n>", "originals to move in this pass at most (default 1000)", limitOption)
  .action((options: { limit?: number }) => passCommand("lifecycle", options));

const prewarmCommand = async (assetId: string | undefined, options: { owner?: string; top?: number; dryRun?: boolean }) =>
  (await import("./prewarm.js")).prewarmCommand(assetId, options);

program.command("prewarm")
  .description("queue renders of the recipes most requested on an owner's assets of the same type, for one ready asset or all of an owner's (JSON report)")
  .argument("[asset-id]", "the ready asset to prewarm")
  .option("--owner <owner>", "prewarm every ready asset of this owner")
  .option("--top <n>", "recipes per asset (default ASSETD_PREWARM_TOP, or 3 when that is 0)", limitOption)
  .option("--dry-run", "report the prediction without queueing anything")
  .action(prewarmCommand);

registerClientCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`assetd: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`assetd: ${(error as Error).message}\n`);
  process.exit(1);
});
