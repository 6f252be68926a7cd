import { describe, expect, it } from "vitest";
import { isAppError } from "./errors.js";
import { checkDestination, checkFetchUrl, classifyAddress, EMPTY_ALLOW_LIST, hostAndPort, isHostAllowed, parseFetchAllow } from "./fetch-guard.js";

function refusal(fn: () => unknown): { code: string; details: Record<string, unknown> } | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { code: error.code, details: error.details };
  }
}

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"], ["127.255.255.254", "loopback"], ["10.1.2.3", "private"], ["172.16.0.1", "private"],
    ["192.168.1.1", "private"], ["100.64.0.1", "carrierGradeNat"], ["100.127.255.255", "carrierGradeNat"],
    ["169.254.169.254", "linkLocal"], ["0.0.0.0", "unspecified"], ["0.1.2.3", "unspecified"], ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"], ["198.18.0.1", "reserved"], ["240.0.0.1", "reserved"],
    ["::1", "loopback"], ["::", "unspecified"], ["fe80::1", "linkLocal"], ["fd00:ec2::254", "uniqueLocal"],
    ["fc00::1", "uniqueLocal"], ["ff02::1", "multicast"], ["::ffff:127.0.0.1", "loopback"], ["::ffff:169.254.169.254", "linkLocal"],
    ["::ffff:10.0.0.1", "private"], ["64:ff9b::7f00:1", "rfc6052"], ["2002:7f00:1::", "6to4"], ["2001::1", "teredo"],
    ["2001:db8::1", "reserved"], ["not-an-address", "invalid"],
  ])("refuses %s (%s)", (address, range) => {
    expect(classifyAddress(address)).toEqual({ public: false, range });
  });

  it.each(["8.8.8.8", "100.128.0.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])("lets the public address %s through", (address) => {
    expect(classifyAddress(address).public).toBe(true);
  });
});

describe("parseFetchAllow", () => {
  it("reads hosts, hosts with ports, bracketed IPv6 and ranges", () => {
    const list = parseFetchAllow(" files.internal , 127.0.0.1:8081,[::1]:9000, ::1 ,10.20.0.0/16,fd12::/48");
    expect(list.hosts).toEqual([
      { host: "files.internal" }, { host: "127.0.0.1", port: 8081 }, { host: "::1", port: 9000 }, { host: "::1" },
    ]);
    expect(list.cidrs.map(([range, bits]) => `${range.toString()}/${bits}`)).toEqual(["10.20.0.0/16", "fd12::/48"]);
    expect(parseFetchAllow(undefined)).toEqual({ hosts: [], cidrs: [] });
  });

  it.each(["10.0.0.0/99", "bad host", "host:99999", "http://x", ".example.com"])("refuses %s", (entry) => {
    expect(() => parseFetchAllow(entry)).toThrow();
  });
});

describe("checkFetchUrl", () => {
  it("takes http and https only, without credentials", () => {
    expect(checkFetchUrl("https://example.com/a.png").hostname).toBe("example.com");
    for (const bad of ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:6379/_INFO", "data:text/plain,hi"]) {
      expect(refusal(() => checkFetchUrl(bad))).toEqual({ code: "url_not_allowed", details: { reason: "scheme" } });
    }
    expect(refusal(() => checkFetchUrl("https://user:pw@example.com/"))).toEqual({ code: "url_not_allowed", details: { reason: "credentials" } });
    expect(refusal(() => checkFetchUrl("not a url"))?.code).toBe("invalid_parameter");
  });

  it("sees through numeric spellings of loopback (the URL parser normalises them)", () => {
    for (const sneaky of ["http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://[::ffff:7f00:1]/"]) {
      const { host, port } = hostAndPort(checkFetchUrl(sneaky));
      expect(refusal(() => checkDestination(EMPTY_ALLOW_LIST, host, port, host))?.code).toBe("url_not_allowed");
    }
  });
});

describe("checkDestination", () => {
  const list = parseFetchAllow("127.0.0.1:8081,files.internal,10.20.0.0/16");

  it("refuses private addresses, naming the class", () => {
    expect(refusal(() => checkDestination(EMPTY_ALLOW_LIST, "metadata.google.internal", 80, "169.254.169.254"))).toEqual({
      code: "url_not_allowed", details: { reason: "address", range: "linkLocal" },
    });
    expect(refusal(() => checkDestination(EMPTY_ALLOW_LIST, "localhost", 80, "::1"))?.details.range).toBe("loopback");
    expect(checkDestination(EMPTY_ALLOW_LIST, "example.com", 443, "93.184.216.34")).toBeUndefined();
  });

  it("lets listed hosts (on the listed port) and listed ranges through", () => {
    expect(checkDestination(list, "127.0.0.1", 8081, "127.0.0.1")).toBeUndefined();
    expect(refusal(() => checkDestination(list, "127.0.0.1", 8082, "127.0.0.1"))?.code).toBe("url_not_allowed");
    expect(refusal(() => checkDestination(list, "localhost", 8081, "127.0.0.1"))?.code).toBe("url_not_allowed");
    expect(checkDestination(list, "files.internal", 1234, "192.168.0.9")).toBeUndefined();
    expect(checkDestination(list, "anything.example", 80, "10.20.3.4")).toBeUndefined();
    expect(checkDestination(list, "anything.example", 80, "::ffff:10.20.3.4")).toBeUndefined();
    expect(refusal(() => checkDestination(list, "anything.example", 80, "10.21.0.1"))?.code).toBe("url_not_allowed");
    expect(isHostAllowed(parseFetchAllow("[::1]:9000"), "0:0:0:0:0:0:0:1", 9000)).toBe(true);
  });
});
