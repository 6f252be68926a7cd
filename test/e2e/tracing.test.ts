import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";
import { spawnServer, type ServerProcess } from "../helpers/process.js";

/**
 * Traces, collected in this process by an in-memory exporter registered as the global
 * provider (what an embedding program or the OTLP SDK does): an upload's HTTP span, its
 * ingest, store and database spans and the metadata job the worker runs later are one
 * trace, on either queue backend (the payload carries the W3C traceparent).
 */
const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

describe(`tracing (${BACKEND})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => app?.close());

  const spans = () => exporter.getFinishedSpans();
  const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

  it("continues an upload's trace in the worker's metadata job", async () => {
    exporter.reset();
    const res = await upload(app, app.admin, fixture("photos/cmyk-fig-1200x812.jpg"), { "content-type": "image/jpeg" });
    expect(res.status).toBe(201);
    expect((await settled(app, app.admin, res.body.id)).status).toBe("ready");

    const deadline = Date.now() + 10_000;
    let job: ReadableSpan | undefined;
    while (!(job = spans().find((s) => s.name === "job extract-metadata")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const request = spans().find((s) => s.name === "POST /v1/assets");
    expect(request, spans().map((s) => s.name).join(", ")).toBeDefined();
    expect(job).toBeDefined();
    expect(traceOf(job!)).toBe(traceOf(request!));
    expect(request!.attributes["http.response.status_code"]).toBe(201);

    const inTrace = spans().filter((s) => traceOf(s) === traceOf(request!)).map((s) => s.name);
    expect(inTrace).toEqual(expect.arrayContaining(["ingest.ingest", "store.stage", "db.query", "job.enqueue extract-metadata", "image.describe"]));
    // The job's span is the consumer of the enqueue span, which the request's span holds.
    const enqueue = spans().find((s) => s.name === "job.enqueue extract-metadata" && traceOf(s) === traceOf(request!))!;
    expect(job!.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
  }, 30_000);

  it("continues a caller's trace from its traceparent header, and renders are spans of it", async () => {
    const res = await upload(app, app.admin, fixture("photos/cmyk-fig-1200x812.jpg"), { "content-type": "image/jpeg" });
    await settled(app, app.admin, res.body.id);
    exporter.reset();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const got = await fetch(`${app.url}/a/${res.body.id}?w=37&fmt=png`, { headers: { ...bearer(app.admin), traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(got.status).toBe(200);
    await got.arrayBuffer();
    const deadline = Date.now() + 5000;
    while (!spans().some((s) => s.name === "GET /a/:id") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const names = spans().filter((s) => traceOf(s) === traceId).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["GET /a/:id", "image.render"]));
  }, 30_000);
});

interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }>;
  }>;
}

/**
 * Export by the standard variables alone: a real `assetd serve` with an OTLP endpoint sends
 * its spans over OTLP/HTTP to a loopback receiver. Embedded backend only (the exporter does
 * not depend on it).
 */
describe.skipIf(BACKEND === "scale")("OTLP/HTTP export", () => {
  let receiver: Server;
  let server: ServerProcess | undefined;
  let dataDir: string;
  const posts: Array<{ path: string; type: string | undefined; body: Buffer }> = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        posts.push({ path: req.url ?? "", type: req.headers["content-type"], body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    dataDir = await mkdtemp(join(tmpdir(), "assetd-otlp-"));
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => receiver.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("sends spans to OTEL_EXPORTER_OTLP_ENDPOINT named by OTEL_SERVICE_NAME", async () => {
    const port = (receiver.address() as { port: number }).port;
    server = await spawnServer(["serve"], {
      ASSETD_DATA_DIR: dataDir,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: "assetd-otlp-probe",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    const res = await fetch(`${server.url}/v1/assets`, {
      method: "POST", body: fixture("photos/cmyk-fig-1200x812.jpg"), headers: { ...bearer(server.token), "content-type": "image/jpeg" },
    });
    expect(res.status).toBe(201);
    const deadline = Date.now() + 15_000;
    const sent = () => Buffer.concat(posts.map((p) => p.body));
    while (!(sent().includes("POST /v1/assets") && sent().includes("job extract-metadata")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(posts.length).toBeGreaterThan(0);
    expect(posts[0]!.path).toBe("/v1/traces");
    expect(posts[0]!.type).toBe("application/json");
    // OTLP/JSON: resourceSpans[].resource.attributes and scopeSpans[].spans[].{name, traceId}.
    const resources = posts.flatMap((p) => (JSON.parse(p.body.toString()) as OtlpExport).resourceSpans);
    const serviceNames = resources.flatMap((r) => r.resource.attributes.filter((a) => a.key === "service.name").map((a) => a.value.stringValue));
    expect(new Set(serviceNames)).toEqual(new Set(["assetd-otlp-probe"]));
    const exported = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const request = exported.find((s) => s.name === "POST /v1/assets");
    const job = exported.find((s) => s.name === "job extract-metadata");
    expect(request).toBeDefined();
    expect(job?.traceId).toBe(request?.traceId);
  }, 60_000);
});
