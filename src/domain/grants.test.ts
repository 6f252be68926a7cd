import { describe, expect, it } from "vitest";
import { parseGrants, parsePrincipal, permissionsFor, principalsOf } from "./grants.js";

const asset = { owner: "alice", status: "ready", public: false };
const set = (...p: string[]) => new Set(p);

describe("the access rule", () => {
  it("gives owners and admins everything, anonymous callers nothing on private assets", () => {
    expect(permissionsFor({ sub: "alice", admin: false }, asset, [])).toEqual(set("read", "write", "delete"));
    expect(permissionsFor({ sub: "root", admin: true }, asset, [])).toEqual(set("read", "write", "delete"));
    expect(permissionsFor(null, asset, [])).toEqual(set());
    expect(permissionsFor({ sub: "bob", admin: false }, asset, [])).toEqual(set());
  });

  it("reads public assets for anyone and adds what grants give", () => {
    expect(permissionsFor(null, { ...asset, public: true }, [])).toEqual(set("read"));
    expect(permissionsFor({ sub: "bob", admin: false }, asset, ["read"])).toEqual(set("read"));
    expect(permissionsFor({ sub: "bob", admin: false }, asset, ["write"])).toEqual(set("read", "write"));
    expect(permissionsFor({ sub: "bob", admin: false }, { ...asset, public: true }, ["delete"])).toEqual(set("read", "delete"));
  });

  it("shows deleted assets to admins only, read-only", () => {
    const deleted = { ...asset, status: "deleted", public: true };
    expect(permissionsFor({ sub: "alice", admin: false }, deleted, ["read"])).toEqual(set());
    expect(permissionsFor({ sub: "root", admin: true }, deleted, [])).toEqual(set("read"));
  });

  it("names a caller's principals: *, the id and its groups", () => {
    expect(principalsOf(null)).toEqual(["*"]);
    expect(principalsOf({ sub: "bob", groups: ["team", "ops"] })).toEqual(["*", "bob", "group:team", "group:ops"]);
  });
});

describe("grant input", () => {
  it("accepts user ids, groups and *; refuses empty, spaced or control-character principals", () => {
    expect(parsePrincipal("bob@example.com")).toBe("bob@example.com");
    expect(parsePrincipal("group:team")).toBe("group:team");
    expect(parsePrincipal("*")).toBe("*");
    for (const bad of ["", "group:", "a b", "x\u202ey", 7, "x".repeat(300)]) {
      expect(() => parsePrincipal(bad)).toThrow(expect.objectContaining({ code: "invalid_parameter" }));
    }
  });

  it("checks each grant, drops duplicates, bounds the list", () => {
    expect(parseGrants([{ principal: "bob", permission: "read" }, { principal: "bob", permission: "read" }, { principal: "*", permission: "read" }]))
      .toEqual([{ principal: "bob", permission: "read" }, { principal: "*", permission: "read" }]);
    expect(() => parseGrants([{ principal: "bob", permission: "own" }])).toThrow(expect.objectContaining({ details: { parameter: "permission" } }));
    expect(() => parseGrants("bob")).toThrow(expect.objectContaining({ details: { parameter: "grants" } }));
    expect(() => parseGrants(Array.from({ length: 257 }, (_, i) => ({ principal: `u${i}`, permission: "read" })))).toThrow(/at most 256/);
  });
});
