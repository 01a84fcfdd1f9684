/**
 * The document is good enough to generate a client from (issue 22). The real app is served on a real port; its
 * /openapi.json goes through openapi-typescript; a small program typed by the generated `paths` (openapi-fetch)
 * registers, logs in, refreshes, creates a project and uploads and downloads a file; `tsc --noEmit` type-checks it
 * and Bun runs it against the server. A JSON body documented without its schema (`content: {}`) or a number
 * typed `string | number` makes the type check fail, so this test fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { silentLogger } from "../../../lib/log.ts";
import { createApp } from "../../../src/app.ts";
import { openDatabase } from "../../../src/db/database.ts";
import { type RunningServer, startServer } from "../../../src/server.ts";
import { testConfig } from "../../support/app.ts";
import { PASSWORD, TEST_ENV } from "../api-helpers.ts";

const ROOT = resolve(import.meta.dir, "../../..");

/** The client program. Type annotations are the assertions tsc checks; runtime checks throw with what came back. */
function program(baseUrl: string): string {
  return `import createClient from "openapi-fetch";
import type { paths } from "./api.ts";

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;
type Credentials = Json<"/v1/auth/register", "post">;
type LoginBody = paths["/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"];
type RefreshBody = paths["/v1/auth/refresh"]["post"]["requestBody"]["content"]["application/json"];
type NewProject = paths["/v1/projects"]["post"]["requestBody"]["content"]["application/json"];

const client = createClient<paths>({ baseUrl: ${JSON.stringify(baseUrl)} });
function fail(step: string, response: Response, error: unknown): never {
  throw new Error(step + " answered " + response.status + ": " + JSON.stringify(error));
}

const credentials: Credentials = { email: "generated-" + crypto.randomUUID() + "@example.com", password: ${JSON.stringify(PASSWORD)} };
// @ts-expect-error the schema refuses unknown fields (additionalProperties: false), and so does the type
const extra: LoginBody = { ...credentials, remember_me: true };
void extra;

const registered = await client.POST("/v1/auth/register", { body: credentials });
if (!registered.data) fail("register", registered.response, registered.error);
const login: LoginBody = { email: credentials.email, password: credentials.password };
const session = await client.POST("/v1/auth/login", { body: login });
if (!session.data) fail("login", session.response, session.error);
const lifetime: number = session.data.expires_in;
const bearer: "Bearer" = session.data.token_type;

const refresh: RefreshBody = { refresh_token: session.data.refresh_token };
const rotated = await client.POST("/v1/auth/refresh", { body: refresh });
if (!rotated.data) fail("refresh", rotated.response, rotated.error);
const auth = { authorization: "Bearer " + rotated.data.access_token };

const me = await client.GET("/v1/me", { headers: auth });
if (!me.data) fail("me", me.response, me.error);
const newProject: NewProject = { name: "generated client", description: null };
const created = await client.POST("/v1/projects", { body: newProject, headers: auth });
if (!created.data) fail("create project", created.response, created.error);
const projectId: string = created.data.id;

const path = { id: projectId, path: "notes/hello world.txt" };
const uploaded = await client.PUT("/v1/projects/{id}/files/{path}", {
  params: { path },
  body: "hello from a generated client",
  bodySerializer: (body: string) => body,
  headers: { ...auth, "content-type": "text/plain" },
});
if (!uploaded.data) fail("upload", uploaded.response, uploaded.error);
const size: number = uploaded.data.size;

const listed = await client.GET("/v1/projects/{id}/files", { params: { path: { id: projectId }, query: { limit: 10 } }, headers: auth });
if (!listed.data) fail("list files", listed.response, listed.error);
const downloaded = await client.GET("/v1/projects/{id}/files/{path}", { params: { path }, headers: auth, parseAs: "text" });

console.log(JSON.stringify({
  registered: registered.response.status,
  me: me.data.email === credentials.email,
  lifetime,
  bearer,
  rotated: rotated.data.refresh_token !== session.data.refresh_token,
  created: created.response.status,
  uploaded: uploaded.response.status,
  size,
  stored: uploaded.data.path,
  listed: listed.data.items.map((f) => f.path),
  downloaded: downloaded.data,
}));
`;
}

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "Bundler",
    lib: ["ES2022", "DOM"],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
  },
  include: ["*.ts"],
};

async function run(command: string[], cwd: string) {
  const child = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, output: `${stdout}${stderr}`, stdout };
}

describe("a client generated from /openapi.json", () => {
  let dir: string;
  let state: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flightdeck-client-"));
    state = mkdtempSync(join(tmpdir(), "flightdeck-client-state-"));
    const config = testConfig({
      ...TEST_ENV,
      DATABASE_URL: `sqlite:${join(state, "app.sqlite")}`,
      MEDIA_DIR: join(state, "media"),
      PORT: "0",
      HOST: "127.0.0.1",
    });
    const db = await openDatabase(config);
    await db.migrate();
    server = await startServer(config, db, silentLogger, createApp(config, { db }));
  });
  afterAll(async () => {
    await server?.shutdown("test over");
    rmSync(dir, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  test("type-checks against the generated types and runs: login, refresh, project, upload", async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Parameters<typeof openapiTS>[0];
    writeFileSync(join(dir, "api.ts"), astToString(await openapiTS(document)));
    writeFileSync(join(dir, "program.ts"), program(server.url));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));

    const tsc = await run([process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], dir);
    expect(tsc.output).toBe("");
    expect(tsc.code).toBe(0);

    const client = await run([process.execPath, "program.ts"], dir);
    expect(client.output).not.toContain("error");
    expect(client.code).toBe(0);
    expect(JSON.parse(client.stdout)).toEqual({
      registered: 201,
      me: true,
      lifetime: expect.any(Number),
      bearer: "Bearer",
      rotated: true,
      created: 201,
      uploaded: 201,
      size: "hello from a generated client".length,
      stored: "notes/hello world.txt",
      listed: ["notes/hello world.txt"],
      downloaded: "hello from a generated client",
    });
  }, 120_000);
});
