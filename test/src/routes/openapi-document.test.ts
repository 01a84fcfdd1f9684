/**
 * /openapi.json as a client generator reads it (issue 22): every route documented with its own operationId,
 * every JSON body with its schema, integers typed integer, the file path a named parameter. The checker
 * (test/support/openapi-check.ts) is also shown to fail on an app with a route that breaks each rule.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia, t as schema } from "elysia";
import { jsonBody } from "../../../src/plugins/json-body.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { documentProblems, type OpenApiDocument } from "../../support/openapi-check.ts";
import { bearer, createProject, signUp, TEST_ENV } from "../api-helpers.ts";

let t: TestApp;
let doc: OpenApiDocument;
beforeAll(async () => {
  t = await createTestApp("sqlite", TEST_ENV);
  doc = (await (await t.request("/openapi.json")).json()) as OpenApiDocument;
});
afterAll(() => t.close());

describe("/openapi.json for generators", () => {
  test("every route is documented with a unique camelCase operationId; every JSON body has its schema; no loose integers", () => {
    expect(documentProblems(t.app, doc)).toEqual([]);
    // The routes counted are the real ones: 18 at the time of writing, more as routes are added.
    expect(
      t.app.routes.filter((r) => !(r.hooks as { detail?: { hide?: boolean } }).detail?.hide).length,
    ).toBeGreaterThanOrEqual(18);
  });

  test("each JSON request body is under application/json with the route's own schema", () => {
    const body = (path: string, method: string) => doc.paths[path]?.[method]?.requestBody;
    expect(body("/v1/auth/login", "post")).toEqual({
      required: true,
      content: {
        "application/json": {
          schema: expect.objectContaining({
            type: "object",
            required: ["email", "password"],
            additionalProperties: false,
          }),
        },
      },
    });
    for (const [path, method, field] of [
      ["/v1/auth/register", "post", "password"],
      ["/v1/auth/refresh", "post", "refresh_token"],
      ["/v1/auth/logout", "post", "refresh_token"],
      ["/v1/projects", "post", "name"],
      ["/v1/projects/{id}", "patch", "description"],
    ] as const) {
      expect([path, method, Object.keys(body(path, method)?.content ?? {})]).toEqual([
        path,
        method,
        ["application/json"],
      ]);
      expect(body(path, method).content["application/json"].schema.properties).toHaveProperty(field);
    }
  });

  test("integers are type integer only, in responses and query parameters alike", () => {
    const tokens = doc.paths["/v1/auth/login"]!.post!.responses["200"].content["application/json"].schema;
    expect(tokens.properties.expires_in).toEqual({ type: "integer", description: "seconds the access token lives" });
    expect(tokens.properties.refresh_expires_in.type).toBe("integer");
    const files = doc.paths["/v1/projects/{id}/files"]!.get!;
    expect(files.responses["200"].content["application/json"].schema.properties.items.items.properties.size).toEqual({
      type: "integer",
    });
    const upload = doc.paths["/v1/projects/{id}/files/{path}"]!.put!;
    expect(upload.responses["201"].content["application/json"].schema.properties.size).toEqual({ type: "integer" });
    const limit = files.parameters.find((p: { name: string }) => p.name === "limit");
    expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 20 });
    expect(JSON.stringify(doc)).not.toContain('"format":"integer"');
  });

  test("the file routes' path is a named parameter that may contain slashes, and the server routes it so", async () => {
    expect(Object.keys(doc.paths).filter((p) => p.includes("*"))).toEqual([]);
    for (const method of ["put", "get", "delete"]) {
      const params = doc.paths["/v1/projects/{id}/files/{path}"]![method]!.parameters;
      expect(params.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(["path:id", "path:path"]);
      expect(params[1]).toMatchObject({ required: true, schema: { type: "string" } });
      expect(params[1].description).toContain("slashes");
    }
    // A generator percent-encodes the parameter; the wildcard receives it decoded, slashes included.
    const user = await signUp(t);
    const project = await createProject(t, user);
    const put = await t.request(`/v1/projects/${project.id}/files/${encodeURIComponent("notes/2026/a b.txt")}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "text/plain" },
      body: "hello",
    });
    expect(put.status).toBe(201);
    expect(((await put.json()) as { path: string }).path).toBe("notes/2026/a b.txt");
    const get = await t.request(`/v1/projects/${project.id}/files/notes/2026/a%20b.txt`, bearer(user.token));
    expect(await get.text()).toBe("hello");
  });

  test("a 204 has no content", () => {
    for (const [path, method] of [
      ["/v1/auth/logout", "post"],
      ["/v1/auth/logout-all", "post"],
      ["/v1/projects/{id}", "delete"],
    ] as const) {
      const noContent = doc.paths[path]![method]!.responses["204"];
      expect([path, method, noContent]).toEqual([path, method, { description: expect.any(String) }]);
    }
  });

  test("the upload documents its raw body", () => {
    expect(doc.paths["/v1/projects/{id}/files/{path}"]!.put!.requestBody).toEqual({
      required: true,
      content: { "*/*": { schema: { type: "string", format: "binary" } } },
    });
  });
});

describe("the checker fails when a rule is broken", () => {
  test("a route without operationId, a body parsed by a function the generator cannot name, a loose integer", async () => {
    const broken = await createTestApp("sqlite", TEST_ENV);
    try {
      broken.app.use(
        new Elysia()
          .post("/v1/extra", ({ body }) => body, {
            // Not our jsonBody: an anonymous function parser, as every JSON route had before issue 22.
            parse: ({ request }) => request.json(),
            body: schema.Object({ a: schema.String() }),
            detail: { operationId: "extra" },
          })
          .post("/v1/strict", ({ body }) => body, { parse: jsonBody(), body: schema.Object({ a: schema.String() }) }),
      );
      const document = (await (await broken.request("/openapi.json")).json()) as OpenApiDocument;
      expect(documentProblems(broken.app, document)).toEqual([
        'POST /v1/extra: the JSON body\'s schema is not under requestBody.content["application/json"]',
        "POST /v1/extra: request body with no content type (content: {})",
        "POST /v1/strict: no operationId (declare detail.operationId)",
      ]);
      const loose = structuredClone(document);
      delete loose.paths["/v1/me"];
      loose.paths["/v1/projects"]!.get!.parameters[0].schema = {
        anyOf: [{ type: "string", format: "integer" }, { type: "integer" }],
      };
      loose.paths["/v1/projects"]!.get!.operationId = "getProject";
      loose.paths["/v1/auth/logout"]!.post!.responses["204"].content = { type: "void" };
      expect(documentProblems(broken.app, loose)).toEqual(
        expect.arrayContaining([
          "GET /v1/me: missing from the document",
          "POST /v1/auth/logout: response 204 content type is no media type with a schema",
          "GET /v1/projects/:id: operationId getProject is also GET /v1/projects's",
          "/paths//v1/projects/get/parameters/0/schema: a number typed as string-or-number",
        ]),
      );
    } finally {
      await broken.close();
    }
  });
});
