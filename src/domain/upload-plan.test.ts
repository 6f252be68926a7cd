import { describe, expect, it } from "vitest";
import { expectedPartSize, MAX_PARTS, partsProblem, planUpload, signUploadGrant, verifyUploadGrant } from "./upload-plan.js";

const MIB = 1024 * 1024;

describe("planUpload", () => {
  const options = { multipartThreshold: 64 * MIB, partSize: 16 * MIB };

  it("keeps bodies up to the threshold in one PUT", () => {
    expect(planUpload(64 * MIB, options)).toEqual({ kind: "single" });
  });

  it("cuts larger bodies into parts of the configured size, the last one shorter", () => {
    const plan = planUpload(1024 ** 3 + 1, options);
    expect(plan).toEqual({ kind: "multipart", partSize: 16 * MIB, partCount: 65 });
    expect(expectedPartSize(65, 16 * MIB, 1024 ** 3 + 1)).toBe(1);
  });

  it("grows the part size so that huge bodies stay within the part limit", () => {
    const plan = planUpload(50 * 1024 ** 3, options);
    expect(plan.kind).toBe("multipart");
    if (plan.kind !== "multipart") return;
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize % MIB).toBe(0);
  });
});

describe("partsProblem", () => {
  const size = 12 * MIB + 5;
  const partSize = 5 * MIB;

  it("accepts exactly the planned parts", () => {
    expect(partsProblem([{ partNumber: 1, size: partSize }, { partNumber: 2, size: partSize }, { partNumber: 3, size: 2 * MIB + 5 }], partSize, size)).toBeUndefined();
  });

  it("names a missing part, a wrong size and a part outside the plan", () => {
    expect(partsProblem([{ partNumber: 1, size: partSize }, { partNumber: 3, size: 2 * MIB + 5 }], partSize, size)).toMatch(/part 2 of 3/);
    expect(partsProblem([{ partNumber: 1, size: partSize }, { partNumber: 2, size: 1 }, { partNumber: 3, size: 2 * MIB + 5 }], partSize, size)).toMatch(/part 2 holds 1 bytes/);
    expect(partsProblem([{ partNumber: 1, size: partSize }, { partNumber: 2, size: partSize }, { partNumber: 3, size: 2 * MIB + 5 }, { partNumber: 4, size: 1 }], partSize, size)).toMatch(/part 4/);
  });
});

describe("upload grants", () => {
  const secret = "s".repeat(32);
  const grant = { assetId: "01HZZZ", target: 3, contentType: "video/mp4" } as const;

  it("verifies what it signed until it expires", () => {
    const token = signUploadGrant(secret, { ...grant, expiresAt: 1000 });
    expect(verifyUploadGrant(secret, token, grant, 999)).toEqual({ ok: true });
    expect(verifyUploadGrant(secret, token, grant, 999.9)).toEqual({ ok: true });
    expect(verifyUploadGrant(secret, token, grant, 1000)).toEqual({ ok: false, reason: "expired" });
    expect(verifyUploadGrant(secret, token, grant, 1001)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses another part, type, asset, secret or a moved expiry", () => {
    const token = signUploadGrant(secret, { ...grant, expiresAt: 1000 });
    expect(verifyUploadGrant(secret, token, { ...grant, target: 4 }, 0).ok).toBe(false);
    expect(verifyUploadGrant(secret, token, { ...grant, contentType: "text/html" }, 0).ok).toBe(false);
    expect(verifyUploadGrant(secret, token, { ...grant, assetId: "01HZZY" }, 0).ok).toBe(false);
    expect(verifyUploadGrant("t".repeat(32), token, grant, 0).ok).toBe(false);
    expect(verifyUploadGrant(secret, token.replace(/^1000/, "9999"), grant, 0)).toEqual({ ok: false, reason: "signature" });
    expect(verifyUploadGrant(secret, "garbage", grant, 0)).toEqual({ ok: false, reason: "malformed" });
  });
});
