import { describe, expect, it } from "vitest";
import { ClamdAddressError, describeClamdAddress, parseClamdAddress } from "./clamd-address.js";

describe("parseClamdAddress", () => {
  it.each([
    ["127.0.0.1:3310", { host: "127.0.0.1", port: 3310 }],
    ["clamav.internal:3310", { host: "clamav.internal", port: 3310 }],
    ["[::1]:3310", { host: "::1", port: 3310 }],
    ["/run/clamav/clamd.ctl", { path: "/run/clamav/clamd.ctl" }],
    ["unix:/tmp/clamd.sock", { path: "/tmp/clamd.sock" }],
    [" unix:relative.sock ", { path: "relative.sock" }],
  ])("reads %s", (text, expected) => {
    expect(parseClamdAddress(text)).toEqual(expected);
  });

  it.each(["clamd", "127.0.0.1", "127.0.0.1:", ":3310", "host:0", "host:65536", "host:33a", "::1:3310", "unix:"])(
    "refuses %s",
    (text) => {
      expect(() => parseClamdAddress(text)).toThrow(ClamdAddressError);
    },
  );

  it("describes an address for messages", () => {
    expect(describeClamdAddress({ host: "::1", port: 3310 })).toBe("[::1]:3310");
    expect(describeClamdAddress({ path: "/run/clamav/clamd.ctl" })).toBe("unix:/run/clamav/clamd.ctl");
  });
});
