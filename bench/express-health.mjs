// Reference peer for `bun run bench`: Express on Node answering /health/live and /health on SQLite.
// Node 20 has no built-in SQLite and native addons do not build reliably here, so SQLite is sql.js
// (the SQLite C library compiled to WebAssembly). The health query is `select 1`, where engine speed is noise.
import express from "express";
import initSqlJs from "sql.js";

const SQL = await initSqlJs();
const db = new SQL.Database();
const startedAt = Date.now();
const app = express();
app.disable("x-powered-by");
app.get("/health/live", (_req, res) => res.json({ status: "ok" }));
app.get("/health", (_req, res) => {
  const started = performance.now();
  try {
    db.exec("select 1");
    res.json({
      status: "ok",
      db: { ok: true, dialect: "sqlite", latency_ms: performance.now() - started },
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
    });
  } catch (_error) {
    res.status(503).json({ status: "unavailable", db: { ok: false } });
  }
});
app.listen(Number(process.env.PORT), "127.0.0.1");
