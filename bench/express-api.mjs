// Reference peer for `bun run bench:api`: the same API routes as Flightdeck, written the ordinary Express way
// on Node, against the same PostgreSQL tables with the same driver (postgres.js), the same HS256 tokens
// (same SECRET_KEY) and the same per-request work: verify the token, load the user, load the project
// (and the file row); uploads stream to a temp file with sha256, fsync it, rename, fsync the directory and
// upsert the row.
import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import express from "express";
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL, { max: Number(process.env.DB_POOL_SIZE ?? 10), onnotice: () => {} });
const KEY = process.env.SECRET_KEY;
const MEDIA = resolve(process.env.MEDIA_DIR);
const MAX = Number(process.env.MAX_UPLOAD_BYTES ?? 50 * 1024 * 1024);
const MACHINE = process.env.FLY_MACHINE_ID ?? "local";

const fail = (res, status, code, message) =>
  res.status(status).json({ error: { code, message, request_id: randomUUID() } });

function verify(header) {
  const m = /^Bearer (\S+)$/.exec(header ?? "");
  if (!m) return undefined;
  const [h, p, s] = m[1].split(".");
  if (!h || !p || s === undefined) return undefined;
  try {
    if (JSON.parse(Buffer.from(h, "base64url").toString()).alg !== "HS256") return undefined;
    const expected = createHmac("sha256", KEY).update(`${h}.${p}`).digest();
    const given = Buffer.from(s, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    return claims.exp > Date.now() / 1000 ? claims : undefined;
  } catch {
    return undefined;
  }
}

async function authenticate(req, res) {
  const claims = verify(req.headers.authorization);
  if (!claims) return void fail(res, 401, "unauthorized", "missing or invalid credentials");
  const [user] = await sql`select * from users where id = ${claims.sub} limit 1`;
  if (!user) return void fail(res, 401, "unauthorized", "account gone");
  return user;
}

async function project(req, res, user) {
  const [row] = await sql`select * from projects where owner_id = ${user.id} and id = ${req.params.id} limit 1`;
  if (!row) return void fail(res, 404, "not_found", "project not found");
  return row;
}

const view = (p) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  created_at: p.created_at.toISOString(),
  updated_at: p.updated_at.toISOString(),
});

function filePath(raw) {
  let path;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (!path || path.startsWith("/") || path.includes("\\") || path.includes("\0")) return undefined;
  if (path.split("/").some((s) => s === "" || s === "." || s === "..")) return undefined;
  return path;
}

const app = express();
app.disable("x-powered-by");
app.disable("etag");
app.get("/health", (_req, res) => res.json({ status: "ok" }));

app.get("/v1/projects/:id", async (req, res, next) => {
  try {
    const user = await authenticate(req, res);
    if (!user) return;
    const p = await project(req, res, user);
    if (p) res.json(view(p));
  } catch (error) {
    next(error);
  }
});

app.put(/^\/v1\/projects\/([^/]+)\/files\/(.+)$/, async (req, res, next) => {
  req.params.id = req.params[0];
  try {
    const user = await authenticate(req, res);
    if (!user) return;
    const path = filePath(req.params[1]);
    if (!path) return fail(res, 400, "bad_path", "bad path");
    const p = await project(req, res, user);
    if (!p) return;
    const tmpDir = join(MEDIA, ".tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const handle = await open(tmp, "wx");
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of req) {
        size += chunk.length;
        if (size > MAX) throw Object.assign(new Error("too large"), { status: 413 });
        hash.update(chunk);
        await handle.write(chunk);
      }
      // The same durability as Flightdeck's upload (src/media/store.ts): the bytes reach the disk before the
      // rename, and the rename before the row; a reference that skips fsync would measure a different job.
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
      if (error.status === 413) return fail(res, 413, "payload_too_large", "too large");
      throw error;
    }
    const target = resolve(MEDIA, p.id, path);
    if (!target.startsWith(MEDIA + sep)) return fail(res, 400, "bad_path", "bad path");
    const [existing] = await sql`select id from files where project_id = ${p.id} and path = ${path} limit 1`;
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
    const dir = await open(dirname(target), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    const now = new Date();
    const sha256 = hash.digest("hex");
    const contentType = req.headers["content-type"] || "application/octet-stream";
    const [row] = await sql`
      insert into files (id, project_id, path, size, sha256, content_type, machine_id, created_at, updated_at)
      values (${randomUUID()}, ${p.id}, ${path}, ${size}, ${sha256}, ${contentType}, ${MACHINE}, ${now}, ${now})
      on conflict (project_id, path) do update set size = excluded.size, sha256 = excluded.sha256,
        content_type = excluded.content_type, machine_id = excluded.machine_id, updated_at = excluded.updated_at
      returning *`;
    res
      .status(existing ? 200 : 201)
      .set("etag", `"${sha256}"`)
      .json({
        path: row.path,
        size: Number(row.size),
        sha256: row.sha256,
        content_type: row.content_type,
        machine_id: row.machine_id,
        created_at: row.created_at.toISOString(),
        updated_at: row.updated_at.toISOString(),
      });
  } catch (error) {
    next(error);
  }
});

app.get(/^\/v1\/projects\/([^/]+)\/files\/(.+)$/, async (req, res, next) => {
  req.params.id = req.params[0];
  try {
    const user = await authenticate(req, res);
    if (!user) return;
    const path = filePath(req.params[1]);
    if (!path) return fail(res, 400, "bad_path", "bad path");
    const p = await project(req, res, user);
    if (!p) return;
    const [file] = await sql`select * from files where project_id = ${p.id} and path = ${path} limit 1`;
    if (!file) return fail(res, 404, "not_found", "file not found");
    const location = resolve(MEDIA, p.id, path);
    const info = await stat(location);
    const etag = `"${file.sha256}"`;
    res.set({ etag, "accept-ranges": "bytes", "cache-control": "private, no-cache" });
    if (req.headers["if-none-match"] === etag) return res.status(304).end();
    res.set({ "content-type": file.content_type, "content-length": String(info.size) });
    createReadStream(location).pipe(res);
  } catch (error) {
    next(error);
  }
});

app.use((error, _req, res, _next) => fail(res, 500, "internal_error", String(error?.message ?? error)));
app.listen(Number(process.env.PORT), "127.0.0.1");
