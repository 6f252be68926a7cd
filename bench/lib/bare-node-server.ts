/**
 * Node's own ceiling for the delivery scenarios: a bare `node:http` server answering every
 * GET with one Buffer held in memory and the headers a cached hit carries. Run as
 * `node bare-node-server.js <file> <content-type>`; prints `listening <port>` when ready.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [file, contentType = "application/octet-stream"] = process.argv.slice(2);
if (!file) throw new Error("usage: bare-node-server <file> [content-type]");
const body = readFileSync(file);
const headers = {
  "content-type": contentType,
  "content-length": String(body.length),
  "cache-control": "public, max-age=31536000, immutable",
  "x-content-type-options": "nosniff",
};
const server = createServer({ keepAliveTimeout: 65_000 }, (_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
