/**
 * Ceiling peer for `bun run bench:api`: the least a Bun + Elysia service can do for the authenticated
 * project read. It verifies the same HS256 token (same SECRET_KEY), runs one prepared query on the same
 * PostgreSQL (Bun.sql prepares tagged queries; users LEFT JOIN projects, so a deleted account is still
 * refused) and answers the same JSON; no request id, log, headers, CORS, rate limit or metrics.
 * Flightdeck is quoted as a percentage of it.
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
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

const fail = (status: number, code: string) => new Response(JSON.stringify({ error: { code } }), { status, headers: { "content-type": "application/json" } });

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
    return { id: row.id, name: row.name, description: row.description, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
  })
  .listen({ port: Number(process.env.PORT), hostname: "127.0.0.1" });
