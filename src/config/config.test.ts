import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

describe("configuration", () => {
  it("has embedded defaults under the data dir", () => {
    const config = loadConfig({}, "/srv/app");
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe("/srv/app/data");
    expect(config.databaseUrl).toBe("sqlite:/srv/app/data/assetd.db");
    expect(config.storageUrl).toBe("file:///srv/app/data/store");
    expect(config.maxPixels).toBe(100_000_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("exports traces only when the standard OTEL_* variables ask for it", () => {
    expect(loadConfig({}).tracesExporter).toBe("none");
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracesExporter).toBe("otlp");
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" }).tracesExporter).toBe("otlp");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "otlp" }).tracesExporter).toBe("otlp");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracesExporter).toBe("none");
    expect(loadConfig({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" }).tracesExporter).toBe("none");
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(ConfigError);
    expect(loadConfig({ ASSETD_EVENT_RETENTION_DAYS: "0" }).eventRetentionDays).toBe(0);
    expect(loadConfig({}).eventRetentionDays).toBe(365);
  });

  it("parses the clamd address once, into a host and port or a socket path", () => {
    expect(loadConfig({}).clamd).toBeUndefined();
    expect(loadConfig({ ASSETD_CLAMD: "127.0.0.1:3310" }).clamd).toEqual({ host: "127.0.0.1", port: 3310 });
    expect(loadConfig({ ASSETD_CLAMD: "unix:/run/clamav/clamd.ctl" }).clamd).toEqual({ path: "/run/clamav/clamd.ctl" });
  });

  it("reads the upload, quota and CORS settings", () => {
    const defaults = loadConfig({}, "/srv/app");
    expect(defaults.quotaDefaultBytes).toBeNull();
    expect(defaults.multipartThreshold).toBe(64 * 1024 * 1024);
    expect(defaults.corsOrigins).toEqual(["*"]);
    const set = loadConfig({
      ASSETD_QUOTA_DEFAULT_BYTES: "10GiB", ASSETD_PART_SIZE: "8MiB", ASSETD_UPLOAD_URL_TTL: "60",
      ASSETD_CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
    }, "/srv/app");
    expect(set.quotaDefaultBytes).toBe(10 * 1024 ** 3);
    expect(set.partSize).toBe(8 * 1024 * 1024);
    expect(set.uploadUrlTtlSeconds).toBe(60);
    expect(set.corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
    expect(() => loadConfig({ ASSETD_PART_SIZE: "1MiB" })).toThrow(/ASSETD_PART_SIZE/);
    expect(() => loadConfig({ ASSETD_CORS_ORIGINS: "https://app.example.com/path" })).toThrow(/ASSETD_CORS_ORIGINS/);
  });

  it("serves the worker's /metrics on 9464 unless ASSETD_WORKER_METRICS_PORT says another port or off", () => {
    expect(loadConfig({}, "/x").workerMetricsPort).toBe(9464);
    expect(loadConfig({ ASSETD_WORKER_METRICS_PORT: "9100" }, "/x").workerMetricsPort).toBe(9100);
    expect(loadConfig({ ASSETD_WORKER_METRICS_PORT: "off" }, "/x").workerMetricsPort).toBeUndefined();
    expect(loadConfig({ ASSETD_WORKER_METRICS_PORT: "0" }, "/x").workerMetricsPort).toBeUndefined();
    expect(() => loadConfig({ ASSETD_WORKER_METRICS_PORT: "70000" }, "/x")).toThrow(/ASSETD_WORKER_METRICS_PORT/);
  });

  it("reads typed values", () => {
    const config = loadConfig({
      ASSETD_PORT: "9000", ASSETD_MAX_UPLOAD_BYTES: "100MiB", ASSETD_ALLOWED_TYPES: "image/*, application/pdf",
      ASSETD_DATABASE_URL: "postgres://u@h/db", ASSETD_AUTO_AVIF: "false",
    }, "/x");
    expect(config.port).toBe(9000);
    expect(config.maxUploadBytes).toBe(100 * 1024 * 1024);
    expect(config.allowedTypes).toEqual(["image/*", "application/pdf"]);
    expect(config.databaseUrl).toBe("postgres://u@h/db");
    expect(config.autoAvif).toBe(false);
  });

  it("trusts loopback names and the listen host, plus ASSETD_TRUSTED_HOSTS", () => {
    expect(loadConfig({}, "/x").trustedHosts.map((h) => h.name)).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    const config = loadConfig({ ASSETD_HOST: "10.0.0.5", ASSETD_TRUSTED_HOSTS: "assets.example.com:8443" }, "/x");
    expect(config.trustedHosts).toEqual([
      { name: "localhost", port: undefined }, { name: "127.0.0.1", port: undefined }, { name: "[::1]", port: undefined },
      { name: "10.0.0.5", port: undefined }, { name: "assets.example.com", port: 8443 },
    ]);
    expect(loadConfig({}, "/x").sqliteBusyTimeoutMs).toBe(5000);
  });

  it("believes X-Forwarded-* only from the peers ASSETD_TRUST_PROXY names", () => {
    expect(loadConfig({}, "/x").trustProxy).toBe(false);
    expect(loadConfig({ ASSETD_TRUST_PROXY: "2" }, "/x").trustProxy).toBe(2);
    expect(loadConfig({ ASSETD_TRUST_PROXY: "loopback, 10.0.0.0/8, fd00::/8, 192.0.2.1" }, "/x").trustProxy)
      .toEqual(["loopback", "10.0.0.0/8", "fd00::/8", "192.0.2.1"]);
  });

  it.each([
    ["ASSETD_PORT", "80a"], ["ASSETD_PORT", "70000"], ["ASSETD_MAX_UPLOAD_BYTES", "lots"], ["ASSETD_LOG_LEVEL", "loud"],
    ["ASSETD_JWT_SECRET", "short"], ["ASSETD_DATABASE_URL", "mysql://x"], ["ASSETD_STORAGE", "ftp://x"],
    ["ASSETD_AUTO_AVIF", "maybe"], ["ASSETD_PUBLIC_URL", "not a url"], ["ASSETD_REDIS_URL", "localhost:6379"],
    ["ASSETD_STORAGE", "s3://"], ["ASSETD_JOB_LEASE_MS", "10"], ["ASSETD_CLAMD", "clamd"],
    ["ASSETD_TRUSTED_HOSTS", "https://assets.example.com"], ["ASSETD_SQLITE_BUSY_TIMEOUT_MS", "soon"],
    ["ASSETD_TRUST_PROXY", "true"], ["ASSETD_TRUST_PROXY", "0"], ["ASSETD_TRUST_PROXY", "10.0.0.0/33"], ["ASSETD_TRUST_PROXY", "proxy.example"],
  ])("refuses a bad %s naming it", (name, value) => {
    try {
      loadConfig({ [name]: value }, "/x");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(name);
    }
  });

  it("reads ASSETD_PRESETS inline or from a file, and refuses a bad one naming it", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    expect(Object.keys(loadConfig({ ASSETD_DATA_DIR: "/tmp/x" }).presets)).toEqual(["thumb", "small", "medium", "large"]);
    expect(loadConfig({ ASSETD_DATA_DIR: "/tmp/x", ASSETD_PRESETS: '{"card":"w=40"}' }).presets).toEqual({ card: { w: "40" } });
    const dir = await mkdtemp(join(tmpdir(), "assetd-presets-"));
    await writeFile(join(dir, "presets.json"), '{"hero":{"w":1600}}');
    expect(loadConfig({ ASSETD_DATA_DIR: "/tmp/x", ASSETD_PRESETS: "presets.json" }, dir).presets).toEqual({ hero: { w: "1600" } });
    expect(() => loadConfig({ ASSETD_DATA_DIR: "/tmp/x", ASSETD_PRESETS: '{"card":"w=0"}' })).toThrow(/ASSETD_PRESETS: preset 'card'/);
    expect(() => loadConfig({ ASSETD_DATA_DIR: "/tmp/x", ASSETD_PRESETS: "missing.json" })).toThrow(/ASSETD_PRESETS: neither JSON nor a readable file/);
  });

  it("reads ASSETD_URL_SIGNING_KEY as a trimmed list of keys of at least 16 characters", () => {
    const a = "a".repeat(16);
    const b = "b".repeat(20);
    expect(loadConfig({ ASSETD_DATA_DIR: "/tmp/x", ASSETD_URL_SIGNING_KEY: ` ${a} , ${b} ,` }).urlSigningKeys).toEqual([a, b]);
    expect(loadConfig({ ASSETD_DATA_DIR: "/tmp/x" }).urlSigningKeys).toEqual([]);
    expect(() => loadConfig({ ASSETD_DATA_DIR: "/tmp/x", ASSETD_URL_SIGNING_KEY: "short" })).toThrow(/ASSETD_URL_SIGNING_KEY: each key needs at least 16 characters/);
  });
});
