/**
 * The ipx peer, run as its own process: `node dist/bench/lib/ipx-server.js <dir>`.
 * Stock ipx 3 (createIPX + ipxFSStorage + createIPXNodeServer) on a loopback port; it
 * prints one JSON line with its port and the versions of the sharp/libvips it bundles
 * (read here, in ipx's process, because loading two libvips builds in one process is unsafe).
 */
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { createIPX, createIPXNodeServer, ipxFSStorage } from "ipx";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: ipx-server.js <dir>\n");
  process.exit(2);
}

const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
const server = createServer(createIPXNodeServer(ipx));

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  // ipx imports its own sharp (a nested, older copy): resolve it from ipx's entry point.
  const require = createRequire(import.meta.url);
  const ipxEntry = require.resolve("ipx");
  const sharp = createRequire(ipxEntry)("sharp") as { versions: Record<string, string>; concurrency(): number };
  process.stdout.write(`${JSON.stringify({ port, sharp: sharp.versions.sharp, vips: sharp.versions.vips, concurrency: sharp.concurrency() })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
