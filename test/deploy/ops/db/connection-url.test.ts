// The pure parts of `db`: the DATABASE_URL it writes (pooled endpoint, TLS required, any password survives the
// round trip through a URL parser) and the names it picks or accepts.
import { describe, expect, test } from "bun:test";
import { databaseUrl, pooledEndpoint, redactedUrl } from "../../../../deploy/ops/db/connection-url.ts";
import {
  clusterNameProblem,
  databaseProblem,
  defaultClusterName,
  defaultRoleName,
  usernameProblem,
} from "../../../../deploy/ops/db/names.ts";

describe("DATABASE_URL", () => {
  const endpoint = { host: "pgbouncer.abc123.flympg.net", port: 5432 };

  test("pooled endpoint, sslmode=require, what the production config accepts", () => {
    expect(databaseUrl(endpoint, "app", "pw", "app_db")).toBe(
      "postgresql://app:pw@pgbouncer.abc123.flympg.net:5432/app_db?sslmode=require",
    );
    expect(databaseUrl({ host: "h.flympg.net" }, "u", "p", "d")).toBe(
      "postgresql://u:p@h.flympg.net/d?sslmode=require",
    );
  });

  for (const password of ["p@ss/w:rd#?&=", "sp ace%25", "ünï", "'\"\\"]) {
    test(`a password with ${JSON.stringify(password)} survives parsing`, () => {
      const url = new URL(databaseUrl(endpoint, "app-user", password, "my-db"));
      expect(decodeURIComponent(url.password)).toBe(password);
      expect(decodeURIComponent(url.username)).toBe("app-user");
      expect(url.pathname).toBe("/my-db");
      expect(url.hostname).toBe(endpoint.host);
      expect(url.searchParams.get("sslmode")).toBe("require");
    });
  }

  test("redacted form for messages", () => {
    expect(redactedUrl(endpoint, "app", "app_db")).toBe(
      "postgresql://app:***@pgbouncer.abc123.flympg.net:5432/app_db?sslmode=require",
    );
  });

  test("no endpoint until the cluster has one (it is not ready)", () => {
    expect(pooledEndpoint({ status: "creating" })).toBeUndefined();
    expect(
      pooledEndpoint({ status: "ready", endpoints: { primary: { direct: { host: "direct.x" } } } }),
    ).toBeUndefined();
    expect(
      pooledEndpoint({ status: "ready", endpoints: { primary: { pooler: { host: "pgbouncer.x", port: 6432 } } } }),
    ).toEqual({ host: "pgbouncer.x", port: 6432 });
  });
});

describe("names", () => {
  test("defaults follow the app", () => {
    expect(defaultClusterName("flightdeck")).toBe("flightdeck-db");
    expect(defaultRoleName("my-app-2")).toBe("my_app_2");
  });

  const cases: [string, (name: string) => string | undefined, string, boolean][] = [
    ["user", usernameProblem, "app_user", true],
    ["user", usernameProblem, "app-user", true],
    ["user", usernameProblem, "App", false],
    ["user", usernameProblem, "_x", false],
    ["user", usernameProblem, "x".repeat(63), true],
    ["user", usernameProblem, "x".repeat(64), false],
    ["database", databaseProblem, "App_DB", true],
    ["database", databaseProblem, "db-", false],
    ["database", databaseProblem, "a b", false],
    ["cluster", clusterNameProblem, "flightdeck-db", true],
    ["cluster", clusterNameProblem, "Flightdeck", false],
    ["cluster", clusterNameProblem, "db_1", false],
  ];
  for (const [kind, check, name, ok] of cases) {
    test(`${kind} ${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}…(${name.length})` : name)} is ${ok ? "accepted" : "refused"}`, () => {
      expect(check(name) === undefined).toBe(ok);
    });
  }
});
