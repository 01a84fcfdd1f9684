/**
 * Ceiling peer for `bun run bench:api`: the least a Bun + Elysia service can do for the authenticated
 * project read and for a file's upload and download. Each route verifies the same HS256 token (same
 * SECRET_KEY) and runs one prepared query on the same PostgreSQL (Bun.sql prepares tagged queries; users LEFT
 * JOIN projects, so a deleted account is still refused); no request id, log, headers, CORS, rate limit or
 * metrics. Flightdeck is quoted as a percentage of it.
 *
 * The upload does the durable work Flightdeck's does and nothing else: stream the body to a temp file while
 * hashing it, fsync, rename into place, fsync the directory, then upsert the row (one more round trip). So
 * the PUT row's ceiling says how fast this disk and this database let any Bun service acknowledge a durable
 * upload; the download answers the file as Flightdeck does (a Bun.file body with its ETag and length).
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdir, open, rename, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { SQL } from "bun";
import { Elysia } from "elysia";

const sql = new SQL(process.env.DATABASE_URL!, { max: Number(process.env.DB_POOL_SIZE ?? 10) });
const KEY = process.env.SECRET_KEY!;
const json = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString());

function subject(header: string | undefined): string | undefined {
  const [h, p, s] = /^Bearer (\S+)$/.exec(header ?? "")?.[1]?.split(".") ?? [];
  if (!h || !p || s === undefined) return undefined;
  try {
    if (json(h).alg !== "HS256") return undefined;
    const expected = createHmac("sha256", KEY).update(`${h}.${p}`).digest();
    const given = Buffer.from(s, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = json(p);
    return claims.exp > Date.now() / 1000 && typeof claims.sub === "string" ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

const MEDIA = resolve(process.env.MEDIA_DIR ?? "/tmp/flightdeck-bench-ceiling-media");
const MACHINE = "ceiling";

const fail = (status: number, code: string) =>
  new Response(JSON.stringify({ error: { code } }), { status, headers: { "content-type": "application/json" } });

/** Who asks for which file, and where it lives under MEDIA; or the error to answer. */
function fileAsked(authorization: string | undefined, params: { id: string; "*": string }) {
  const owner = subject(authorization);
  if (!owner) return fail(401, "unauthorized");
  const path = params["*"];
  const location = resolve(MEDIA, params.id, path);
  if (!path || !location.startsWith(MEDIA + sep)) return fail(400, "bad_path");
  return { owner, path, location };
}

new Elysia()
  .get("/health", () => ({ status: "ok" }))
  .get("/v1/projects/:id", async ({ headers, params }) => {
    const owner = subject(headers.authorization);
    if (!owner) return fail(401, "unauthorized");
    const [row] = await sql`
      select u.id as account, p.id, p.name, p.description, p.created_at, p.updated_at
      from users u left join projects p on p.owner_id = u.id and p.id = ${params.id}
      where u.id = ${owner} limit 1`;
    if (!row) return fail(401, "unauthorized");
    if (!row.id) return fail(404, "not_found");
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  })
  .put(
    "/v1/projects/:id/files/*",
    async ({ headers, params, request }) => {
      const asked = fileAsked(headers.authorization, params);
      if (asked instanceof Response) return asked;
      const { owner, path, location: target } = asked;
      const [row] = await sql`
      select u.id as account, p.id, f.id as file from users u
      left join projects p on p.owner_id = u.id and p.id = ${params.id}
      left join files f on f.project_id = p.id and f.path = ${path}
      where u.id = ${owner} limit 1`;
      if (!row) return fail(401, "unauthorized");
      if (!row.id) return fail(404, "not_found");
      const temp = join(MEDIA, ".tmp", crypto.randomUUID());
      await mkdir(dirname(temp), { recursive: true });
      const handle = await open(temp, "wx");
      const hasher = new Bun.CryptoHasher("sha256");
      let size = 0;
      try {
        for await (const chunk of request.body ?? []) {
          size += chunk.byteLength;
          hasher.update(chunk);
          await handle.write(chunk);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
      const dir = await open(dirname(target), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      const sha256 = hasher.digest("hex");
      const now = new Date();
      const contentType = headers["content-type"] || "application/octet-stream";
      const [file] = await sql`
      insert into files (id, project_id, path, size, sha256, content_type, volume_id, machine_id, created_at, updated_at)
      values (${crypto.randomUUID()}, ${params.id}, ${path}, ${size}, ${sha256}, ${contentType}, null, ${MACHINE}, ${now}, ${now})
      on conflict (project_id, path) do update set size = excluded.size, sha256 = excluded.sha256,
        content_type = excluded.content_type, machine_id = excluded.machine_id, updated_at = excluded.updated_at
      returning *`;
      return new Response(
        JSON.stringify({
          path: file.path,
          size: Number(file.size),
          sha256: file.sha256,
          content_type: file.content_type,
          volume_id: null,
          machine_id: MACHINE,
          created_at: file.created_at.toISOString(),
          updated_at: file.updated_at.toISOString(),
        }),
        { status: row.file ? 200 : 201, headers: { "content-type": "application/json", etag: `"${sha256}"` } },
      );
    },
    { parse: "none" },
  )
  .get("/v1/projects/:id/files/*", async ({ headers, params }) => {
    const asked = fileAsked(headers.authorization, params);
    if (asked instanceof Response) return asked;
    const { owner, path, location } = asked;
    const [row] = await sql`
      select u.id as account, p.id, f.sha256, f.content_type from users u
      left join projects p on p.owner_id = u.id and p.id = ${params.id}
      left join files f on f.project_id = p.id and f.path = ${path}
      where u.id = ${owner} limit 1`;
    if (!row) return fail(401, "unauthorized");
    if (!row.id || !row.sha256) return fail(404, "not_found");
    const info = await stat(location);
    return new Response(Bun.file(location), {
      headers: { etag: `"${row.sha256}"`, "content-type": row.content_type, "content-length": String(info.size) },
    });
  })
  .listen({ port: Number(process.env.PORT), hostname: "127.0.0.1" });
