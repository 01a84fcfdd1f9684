/**
 * The bad-input corpus: malformed JSON, wrong content types, wrong types, unknown fields, oversized bodies,
 * huge numbers, invalid UTF-8 and SQL metacharacters, thrown at every route on both databases. Invalid input
 * must get a 4xx JSON error and leave the data exactly as it was; SQL metacharacters in otherwise valid
 * input must be stored literally. Nothing may ever answer 5xx.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, createProject, DIALECTS, errorOf, PASSWORD, signUp, TEST_ENV, type TestUser } from "../api-helpers.ts";

const MAX_UPLOAD = 4096;
const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1; SELECT pg_sleep(5)",
  "%_\\",
  "$1",
  "`x`",
  "') --",
  "0x27",
  "'||(select email from users)||'",
];

type Raw = { label: string; body: NonNullable<RequestInit["body"]>; contentType?: string };

const enc = new TextEncoder();
/** Bodies that are never valid for any JSON route, whatever the schema. */
function invalidBodies(valid: Record<string, unknown>): Raw[] {
  const json = (label: string, value: unknown): Raw => ({
    label,
    body: JSON.stringify(value),
    contentType: "application/json",
  });
  const out: Raw[] = [
    { label: "truncated JSON", body: '{"name":', contentType: "application/json" },
    { label: "single quotes", body: "{'name':'x'}", contentType: "application/json" },
    { label: "trailing comma", body: '{"name":"x",}', contentType: "application/json" },
    { label: "empty body", body: "", contentType: "application/json" },
    { label: "whitespace body", body: "   \n", contentType: "application/json" },
    { label: "NaN literal", body: '{"name": NaN}', contentType: "application/json" },
    { label: "deep nesting", body: "[".repeat(20_000) + "]".repeat(20_000), contentType: "application/json" },
    { label: "text/plain", body: JSON.stringify(valid), contentType: "text/plain" },
    { label: "form encoded", body: "name=x&email=y", contentType: "application/x-www-form-urlencoded" },
    {
      label: "multipart",
      body: '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
      contentType: "multipart/form-data; boundary=b",
    },
    { label: "no content type", body: JSON.stringify(valid) },
    {
      label: "invalid UTF-8",
      body: Buffer.concat([enc.encode('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), enc.encode('"}')]),
      contentType: "application/json",
    },
    {
      label: "oversized",
      body: JSON.stringify({ ...valid, pad: "x".repeat(70_000) }),
      contentType: "application/json",
    },
    json("null", null),
    json("array", [valid]),
    json("string", "hello"),
    json("number", 42),
    json("unknown field", { ...valid, is_admin: true }),
    json("__proto__ field", JSON.parse(`{"__proto__": {"admin": true}, ${JSON.stringify(valid).slice(1)}`)),
  ];
  for (const field of Object.keys(valid)) {
    for (const [kind, value] of [
      ["number", 7],
      ["huge number", 1e308],
      ["bigint-ish", 1.2345678901234568e29],
      ["array", ["x"]],
      ["object", { $gt: "" }],
      ["boolean", true],
      ["NUL", "a\u0000b"],
      ["control", "a\u001bb"],
      ["very long", "x".repeat(5000)],
    ] as const) {
      out.push(json(`${field}: ${kind}`, { ...valid, [field]: value }));
    }
    out.push({
      label: `${field}: 1e400`,
      body: JSON.stringify(valid)
        .replace(/"[^"]*"}$/, "1e400}")
        .replace(new RegExp(`"${field}":"[^"]*"`), `"${field}":1e400`),
      contentType: "application/json",
    });
  }
  return out;
}

describe.each(DIALECTS)("bad input on %s", (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let projectId: string;

  async function snapshot() {
    const projects = await t.db.repo.projects.list(alice.id, { limit: 100 });
    const files = await Promise.all(projects.items.map((p) => t.db.repo.files.listAll(p.id)));
    const strip = (rows: object[]) => rows.map((r) => JSON.stringify(r)).sort();
    return {
      me: await t.db.repo.users.findById(alice.id),
      projects: strip(projects.items),
      files: strip(files.flat()),
      disk: readdirSync(t.mediaDir, { recursive: true })
        .map(String)
        .filter((p) => !p.startsWith(".tmp"))
        .sort(),
      tmp: readdirSync(t.mediaDir, { recursive: true })
        .map(String)
        .filter((p) => p.startsWith(".tmp/")),
    };
  }

  async function expectClientError(label: string, res: Response) {
    const text = await res.text();
    expect([label, res.status >= 400 && res.status < 500 ? "4xx" : `${res.status} ${text.slice(0, 300)}`]).toEqual([
      label,
      "4xx",
    ]);
    expect([label, res.headers.get("content-type") ?? ""]).toEqual([
      label,
      expect.stringContaining("application/json"),
    ]);
    const parsed = JSON.parse(text) as { error: { code: string; message: string; request_id: string } };
    expect([label, typeof parsed.error.code, typeof parsed.error.message]).toEqual([label, "string", "string"]);
  }

  beforeAll(async () => {
    t = await createTestApp(dialect, { ...TEST_ENV, MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
    alice = await signUp(t, "alice-corpus@example.com");
    projectId = (await createProject(t, alice, "seed")).id;
    await t.request(`/v1/projects/${projectId}/files/seed.txt`, {
      method: "PUT",
      body: "seed",
      headers: { authorization: `Bearer ${alice.token}` },
    });
  });
  afterAll(() => t.close());

  const jsonRoutes = () => [
    {
      method: "POST",
      path: "/v1/auth/register",
      valid: { email: "corpus-new@example.com", password: PASSWORD },
      auth: false,
    },
    {
      method: "POST",
      path: "/v1/auth/login",
      valid: { email: "alice-corpus@example.com", password: PASSWORD },
      auth: false,
    },
    { method: "POST", path: "/v1/projects", valid: { name: "corpus-new", description: "d" }, auth: true },
    { method: "PATCH", path: `/v1/projects/${projectId}`, valid: { name: "renamed", description: "x" }, auth: true },
    {
      method: "POST",
      path: "/v1/me/password",
      valid: { current_password: PASSWORD, new_password: "corpus new password" },
      auth: true,
    },
    { method: "DELETE", path: "/v1/me", valid: { password: PASSWORD }, auth: true },
  ];

  test("JSON routes: every malformed, mistyped, unknown, oversized or non-UTF-8 body is a 4xx JSON error and changes nothing", async () => {
    const before = await snapshot();
    let sent = 0;
    for (const route of jsonRoutes()) {
      for (const raw of invalidBodies(route.valid)) {
        const headers: Record<string, string> = raw.contentType ? { "content-type": raw.contentType } : {};
        if (route.auth) headers.authorization = `Bearer ${alice.token}`;
        const res = await t.request(route.path, { method: route.method, headers, body: raw.body });
        await expectClientError(`${route.method} ${route.path} ${raw.label}`, res);
        sent++;
      }
    }
    expect(sent).toBeGreaterThan(150);
    expect(await snapshot()).toEqual(before);
    expect(await t.db.repo.users.findByEmail("corpus-new@example.com")).toBeUndefined();
  });

  test("path, query and header garbage on every route is a 4xx JSON error and changes nothing", async () => {
    const before = await snapshot();
    const badIds = [
      "' OR '1'='1",
      "%00",
      "%FF%FE",
      "1%20OR%201=1",
      "x".repeat(2000),
      "..%2F..%2Fetc",
      "null",
      "-1",
      "1e400",
      crypto.randomUUID(),
    ];
    const routes: [string, (id: string) => string][] = [
      ["GET", (id) => `/v1/projects/${id}`],
      ["PATCH", (id) => `/v1/projects/${id}`],
      ["DELETE", (id) => `/v1/projects/${id}`],
      ["GET", (id) => `/v1/projects/${id}/files`],
      ["PUT", (id) => `/v1/projects/${id}/files/a.txt`],
      ["GET", (id) => `/v1/projects/${id}/files/seed.txt`],
      ["DELETE", (id) => `/v1/projects/${id}/files/seed.txt`],
    ];
    for (const [method, path] of routes) {
      for (const id of badIds) {
        const init: RequestInit = {
          method,
          headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
        };
        if (method === "PATCH") init.body = JSON.stringify({ name: "hijack" });
        if (method === "PUT") init.body = "content";
        await expectClientError(`${method} ${path(id).slice(0, 80)}`, await t.request(path(id), init));
      }
    }
    const queries = [
      "limit=0",
      "limit=101",
      "limit=1e400",
      "limit=99999999999999999999999",
      "limit=abc",
      "limit[$gt]=1",
      "extra=1",
      "cursor=%00",
      `cursor=${"x".repeat(5000)}`,
    ];
    for (const base of ["/v1/projects", `/v1/projects/${projectId}/files`]) {
      for (const q of queries)
        await expectClientError(`GET ${base}?${q}`, await t.request(`${base}?${q}`, bearer(alice.token)));
    }
    const badFilePaths = ["a%2F..%2F..%2Fx", "%2Fetc%2Fpasswd", "a%5Cb", "a%00", "%FF", "a%2F%2Fb", "%E0%A4%A"];
    for (const p of badFilePaths) {
      for (const method of ["PUT", "GET", "DELETE"]) {
        const res = await t.request(`/v1/projects/${projectId}/files/${p}`, {
          method,
          headers: { authorization: `Bearer ${alice.token}` },
          body: method === "PUT" ? "evil" : undefined,
        });
        await expectClientError(`${method} file ${p}`, res);
      }
    }
    const fileHeaders: [string, Record<string, string>, NonNullable<RequestInit["body"]>][] = [
      ["malformed content type", { "content-type": "image" }, "x"],
      ["content type with newline", { "content-type": 'text/plain; a="b\u0001"' }, "x"],
      ["oversized upload", { "content-type": "application/octet-stream" }, new Uint8Array(MAX_UPLOAD + 1)],
      ["overlong path", {}, "x"],
    ];
    for (const [label, headers, body] of fileHeaders) {
      const path = label === "overlong path" ? "y".repeat(300) : "seed.txt";
      const res = await t.request(`/v1/projects/${projectId}/files/${path}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${alice.token}`, ...headers },
        body,
      });
      await expectClientError(`PUT file ${label}`, res);
    }
    for (const auth of [
      "Bearer",
      "Bearer ' OR 1=1 --",
      `Bearer ${"a".repeat(5000)}`,
      "Bearer a.b.c",
      "Basic Zm9vOmJhcg==",
      `Bearer ${alice.token}x`,
    ]) {
      for (const path of [
        "/v1/me",
        "/v1/projects",
        `/v1/projects/${projectId}`,
        `/v1/projects/${projectId}/files/seed.txt`,
      ]) {
        await expectClientError(
          `auth ${auth.slice(0, 20)} ${path}`,
          await t.request(path, { headers: { authorization: auth } }),
        );
      }
    }
    const range = await t.request(
      `/v1/projects/${projectId}/files/seed.txt`,
      bearer(alice.token, { range: "bytes=99999999999999999999-" }),
    );
    await expectClientError("huge range", range);
    expect(await snapshot()).toEqual(before);
  });

  test("SQL metacharacters in every string field are stored literally or refused, never executed", async () => {
    const bob = await signUp(t);
    for (const [i, s] of SQL.entries()) {
      const email = `${s.replace(/\s/g, "")}${i}@example.com`;
      const reg = await t.request("/v1/auth/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: `${s}${PASSWORD}` }),
      });
      expect([s, reg.status < 500 ? "ok" : await reg.text()]).toEqual([s, "ok"]);
      if (reg.status === 201) {
        const login = await t.request("/v1/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password: `${s}${PASSWORD}` }),
        });
        expect([s, login.status]).toEqual([s, 200]);
      }
      const wrongLogin = await t.request("/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: s, password: s }),
      });
      expect([s, wrongLogin.status]).toEqual([s, 401]);

      const created = await t.request("/v1/projects", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bob.token}` },
        body: JSON.stringify({ name: s, description: s }),
      });
      expect([s, created.status]).toEqual([s, 201]);
      const project = (await created.json()) as { id: string; name: string; description: string };
      expect(await t.db.repo.projects.get(bob.id, project.id)).toMatchObject({ name: s, description: s });
      const renamed = await t.request(`/v1/projects/${project.id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", authorization: `Bearer ${bob.token}` },
        body: JSON.stringify({ name: `${s}!` }),
      });
      expect([s, renamed.status]).toEqual([s, 200]);
      // A projects cursor is an id: anything else is refused, naming the field.
      const listed = await t.request(`/v1/projects?cursor=${encodeURIComponent(s)}`, bearer(bob.token));
      expect([s, listed.status, ((await errorOf(listed)).details as { field: string }[])[0]?.field]).toEqual([
        s,
        422,
        "/cursor",
      ]);

      const filePath = encodeURIComponent(`dir ${i}/${s.replace(/[\\/]/g, "_")}.txt`);
      const put = await t.request(`/v1/projects/${project.id}/files/${filePath}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${bob.token}` },
        body: s,
      });
      expect([s, put.status]).toEqual([s, 201]);
      expect(await (await t.request(`/v1/projects/${project.id}/files/${filePath}`, bearer(bob.token))).text()).toBe(s);
      const files = await t.request(
        `/v1/projects/${project.id}/files?cursor=${encodeURIComponent(s)}`,
        bearer(bob.token),
      );
      // A files cursor is a path: a valid one pages on (an empty page here), an invalid one is 422 naming it.
      const field = files.status === 422 ? ((await errorOf(files)).details as { field: string }[])[0]?.field : "";
      expect([s, files.status === 200 || field === "/cursor"]).toEqual([s, true]);
    }
    // Nobody else's data was reachable or altered.
    expect((await t.db.repo.projects.list(alice.id, { limit: 100 })).items.map((p) => p.name)).toEqual(["seed"]);
    expect((await t.request("/v1/me", bearer(alice.token))).status).toBe(200);
  });
});
