import { describe, expect, it } from "vitest";
import { checkDeclaredType, declaredType, kindOf, normaliseType, TypePolicy } from "./media-types.js";
import { sniffText } from "./sniff-text.js";

describe("media types", () => {
  it("normalises aliases and parameters", () => {
    expect(normaliseType("IMAGE/JPG; charset=binary")).toBe("image/jpeg");
    expect(normaliseType(undefined)).toBe("");
  });

  it("treats octet-stream as undeclared and falls back to the extension", () => {
    expect(declaredType("application/octet-stream", "x.png")).toBe("image/png");
    expect(declaredType(undefined, "really-a-png.jpg")).toBe("image/jpeg");
    expect(declaredType("image/png", "x.jpg")).toBe("image/png");
    expect(declaredType(undefined, "README")).toBeUndefined();
  });

  it("refuses declarations the bytes contradict", () => {
    expect(checkDeclaredType("image/jpeg", "image/png")).toEqual({ ok: false, declared: "image/jpeg", sniffed: "image/png" });
    expect(checkDeclaredType("image/png", "text/html").ok).toBe(false);
    expect(checkDeclaredType("image/jpeg", "image/jpeg").ok).toBe(true);
    expect(checkDeclaredType(undefined, "text/html").ok).toBe(true);
    expect(checkDeclaredType("video/quicktime", "video/mp4").ok).toBe(true);
    expect(checkDeclaredType("text/csv", "text/plain").ok).toBe(true);
    expect(checkDeclaredType("text/html", "text/plain").ok).toBe(false);
  });

  it("classifies kinds", () => {
    expect(kindOf("image/webp")).toBe("image");
    expect(kindOf("application/pdf")).toBe("document");
    expect(kindOf("application/x-tar")).toBe("other");
  });

  it("applies the allowed-types policy", () => {
    const policy = new TypePolicy(["image/*", "application/pdf"]);
    expect(policy.allows("image/png")).toBe(true);
    expect(policy.allows("application/pdf")).toBe(true);
    expect(policy.allows("text/plain")).toBe(false);
    expect(new TypePolicy(["*"]).allows("text/html")).toBe(true);
  });
});

describe("text sniffing", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it.each([
    ["<!DOCTYPE html><p>x", "text/html"],
    ["  <script>alert(1)</script>", "text/html"],
    ['<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">', "image/svg+xml"],
    ["<svg width='1'>", "image/svg+xml"],
    ["hello, world\n", "text/plain"],
    ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", "text/plain"],
  ])("%s -> %s", (text, type) => {
    expect(sniffText(bytes(text))).toBe(type);
  });

  it("calls binary junk octet-stream", () => {
    expect(sniffText(new Uint8Array([0, 1, 2, 3]))).toBe("application/octet-stream");
  });
});
