/**
 * Writes that cannot be lost (issue 22): If-Match / If-None-Match on PUT and DELETE, If-Range on GET, the ETag
 * on every write's answer, and two racing PUTs with the same If-Match, against the real routes on each database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../../src/app.ts";
import { createTestApp, type TestApp, testConfig } from "../../support/app.ts";
import { createProject, DIALECTS, errorOf, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const etagOf = (data: string) => `"${new Bun.CryptoHasher("sha256").update(data).digest("hex")}"`;

describe.each(DIALECTS)("conditional file requests on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let projectId: string;
  const url = (path: string) => `/v1/projects/${projectId}/files/${path}`;
  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: RequestInit["body"]) =>
    t.request(url(path), { method, body, headers: { authorization: `Bearer ${alice.token}`, ...headers } });
  const put = (path: string, body: string, headers: Record<string, string> = {}) => send("PUT", path, headers, body);
  const content = async (path: string) => {
    const res = await send("GET", path);
    return res.status === 200 ? res.text() : res.status;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
    alice = await signUp(t);
    projectId = (await createProject(t, alice)).id;
  });
  afterAll(() => t.close());

  test("every PUT answers the stored content's ETag, on create and on replace", async () => {
    const created = await put("etag.txt", "one");
    expect([created.status, created.headers.get("etag")]).toEqual([201, etagOf("one")]);
    const replaced = await put("etag.txt", "two");
    expect([replaced.status, replaced.headers.get("etag")]).toEqual([200, etagOf("two")]);
    expect((await send("GET", "etag.txt")).headers.get("etag")).toBe(etagOf("two"));
  });

  test("If-Match on PUT: the current ETag replaces, a stale one or a missing file is 412 and nothing is written", async () => {
    await put("doc.txt", "v1");
    const stale = await put("doc.txt", "from a stale copy", { "if-match": etagOf("v0") });
    expect(stale.status).toBe(412);
    const error = await errorOf(stale);
    expect(error).toMatchObject({ code: "precondition_failed", details: { etag: etagOf("v1") } });
    expect(stale.headers.get("etag")).toBe(etagOf("v1"));
    expect(await content("doc.txt")).toBe("v1");

    // Strong comparison: the weak form of the very same tag does not match (RFC 9110 section 13.1.1).
    expect((await put("doc.txt", "weak", { "if-match": `W/${etagOf("v1")}` })).status).toBe(412);
    const ok = await put("doc.txt", "v2", { "if-match": `"other", ${etagOf("v1")}` });
    expect([ok.status, ok.headers.get("etag")]).toEqual([200, etagOf("v2")]);
    expect(await content("doc.txt")).toBe("v2");

    expect((await put("doc.txt", "v3", { "if-match": "*" })).status).toBe(200);
    const absent = await put("nothing-here.txt", "x", { "if-match": "*" });
    expect([absent.status, (await errorOf(absent)).details]).toEqual([412, { etag: null }]);
    expect(await content("nothing-here.txt")).toBe(404);
    // Not an entity tag at all: matches nothing.
    expect((await put("doc.txt", "v4", { "if-match": "v3" })).status).toBe(412);
    expect(await content("doc.txt")).toBe("v3");
  });

  test("If-None-Match on PUT: * creates only, a list refuses a matching version", async () => {
    const first = await put("once.txt", "first", { "if-none-match": "*" });
    expect(first.status).toBe(201);
    const second = await put("once.txt", "second", { "if-none-match": "*" });
    expect([second.status, (await errorOf(second)).code]).toEqual([412, "precondition_failed"]);
    expect(await content("once.txt")).toBe("first");

    expect((await put("once.txt", "x", { "if-none-match": `"a", ${etagOf("first")}` })).status).toBe(412);
    expect((await put("once.txt", "third", { "if-none-match": etagOf("other") })).status).toBe(200);
    expect(await content("once.txt")).toBe("third");
  });

  test("If-Match on DELETE: a stale ETag or a missing file is 412; the current one deletes", async () => {
    await put("del.txt", "keep me");
    const stale = await send("DELETE", "del.txt", { "if-match": etagOf("older") });
    expect([stale.status, (await errorOf(stale)).code]).toEqual([412, "precondition_failed"]);
    expect(await content("del.txt")).toBe("keep me");
    expect((await send("DELETE", "del.txt", { "if-match": etagOf("keep me") })).status).toBe(204);
    expect(await content("del.txt")).toBe(404);
    expect((await send("DELETE", "del.txt", { "if-match": "*" })).status).toBe(412);
    expect((await send("DELETE", "del.txt")).status).toBe(404);
  });

  test("If-Range on GET: the range while the ETag matches strongly, else the whole file 200", async () => {
    await put("range.txt", "0123456789");
    const etag = etagOf("0123456789");
    const holds = await send("GET", "range.txt", { range: "bytes=2-4", "if-range": etag });
    expect([holds.status, await holds.text()]).toEqual([206, "234"]);
    for (const validator of [etagOf("older"), `W/${etag}`, "Tue, 01 Dec 2026 10:00:00 GMT", "nonsense"]) {
      const res = await send("GET", "range.txt", { range: "bytes=2-4", "if-range": validator });
      expect([validator, res.status, await res.text()]).toEqual([validator, 200, "0123456789"]);
      expect(res.headers.get("content-range")).toBeNull();
    }
  });

  test("two PUTs with the same If-Match at once: exactly one wins, the other is 412, the winner's bytes stay", async () => {
    await put("race.txt", "base");
    const base = etagOf("base");
    for (let round = 0; round < 5; round++) {
      const bodies = [`a${round}`, `b${round}`];
      const expected = round === 0 ? base : etagOf((await content("race.txt")) as string);
      const answers = await Promise.all(bodies.map((b) => put("race.txt", b, { "if-match": expected })));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 412]);
      const winner = bodies[answers.findIndex((r) => r.status === 200)] as string;
      expect(await content("race.txt")).toBe(winner);
      expect(await t.db.repo.files.get(projectId, "race.txt")).toMatchObject({ sha256: etagOf(winner).slice(1, -1) });
    }
  });

  test("another machine's write while this one's body streams in: 412, the other version stands", async () => {
    // A second machine on the same database with its own volume, as on Fly.
    const otherDir = mkdtempSync(join(tmpdir(), "flightdeck-media-b-"));
    const config = testConfig({
      ...TEST_ENV,
      DATABASE_URL: t.config.databaseUrl,
      MEDIA_DIR: otherDir,
      FLY_MACHINE_ID: "m-b",
    });
    const other = createApp(config, { db: t.db });
    try {
      await put("shared.txt", "base");
      // Machine B takes a body of undeclared length for it (so it is stored there, not replayed) and holds it open.
      let finish = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("from machine B"));
          finish = () => controller.close();
        },
      });
      const fromB = other.handle(
        new Request(`http://localhost${url("shared.txt")}`, {
          method: "PUT",
          body,
          headers: { authorization: `Bearer ${alice.token}`, "if-match": etagOf("base") },
          duplex: "half",
        } as RequestInit),
      );
      await Bun.sleep(50);
      const fromA = await put("shared.txt", "from machine A", { "if-match": etagOf("base") });
      expect(fromA.status).toBe(200);
      finish();
      const answer = await fromB;
      expect([answer.status, (await errorOf(answer)).details]).toEqual([412, { etag: etagOf("from machine A") }]);
      expect(await content("shared.txt")).toBe("from machine A");
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test("the row is written and deleted only while it is the version checked (compare-and-set on the ETag)", async () => {
    await put("cas.txt", "seen");
    const seen = await t.db.repo.files.get(projectId, "cas.txt");
    if (!seen) throw new Error("cas.txt was not stored");
    // Another writer replaces it after the check.
    await put("cas.txt", "newer");
    const write = { ...seen, sha256: "f".repeat(64), volumeId: seen.volumeId as string };
    expect(await t.db.repo.files.writeIf(write, seen)).toBeUndefined();
    expect(await t.db.repo.files.writeIf(write, undefined)).toBeUndefined();
    expect(await t.db.repo.files.deleteIf(projectId, "cas.txt", seen.sha256)).toBe(false);
    expect(await content("cas.txt")).toBe("newer");
    const current = await t.db.repo.files.get(projectId, "cas.txt");
    expect(current?.sha256).toBe(etagOf("newer").slice(1, -1));
    const replaced = await t.db.repo.files.writeIf(write, current);
    expect(replaced?.sha256).toBe("f".repeat(64));
    expect(await t.db.repo.files.deleteIf(projectId, "cas.txt", "f".repeat(64))).toBe(true);
    expect(await t.db.repo.files.get(projectId, "cas.txt")).toBeUndefined();
  });

  test("OpenAPI documents 412 on PUT and DELETE and the conditional headers", async () => {
    const spec = (await (await t.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { description?: string; responses?: Record<string, unknown> }>>;
    };
    const [, file] = Object.entries(spec.paths).find(([path]) => /\/files\/./.test(path)) ?? [];
    expect(Object.keys(file?.put?.responses ?? {})).toContain("412");
    expect(Object.keys(file?.delete?.responses ?? {})).toContain("412");
    expect(file?.put?.description).toContain("If-Match");
    expect(file?.get?.description).toContain("If-Range");
  });

  test("CORS lets a browser send the conditional headers and read the ETag", async () => {
    const preflight = await t.request(url("x.txt"), {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "PUT" },
    });
    const allowed = preflight.headers.get("access-control-allow-headers") ?? "";
    for (const h of ["if-match", "if-none-match", "if-range", "range"]) expect(allowed).toContain(h);
    const res = await t.request(url("etag.txt"), {
      headers: { authorization: `Bearer ${alice.token}`, origin: "https://app.example" },
    });
    expect(res.headers.get("access-control-expose-headers")).toContain("etag");
  });
});
