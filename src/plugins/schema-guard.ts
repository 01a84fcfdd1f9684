/**
 * Production refuses every route but /health while the database schema is behind its code (503
 * `schema_behind`). The guard answers from the gate's last verdict, synchronously: awaiting the gate in the
 * hook made Elysia await on every request, for a verdict that only changes while a release migrates. The gate
 * is asked when the app is built and again (the gate itself rate-limits real checks) by requests that find it
 * not yet up to date; until its first answer, routes answer 503 as if behind. Fly routes no traffic to a
 * machine before its /health check passes, and /health awaits the gate itself.
 * @module
 */
import { Elysia } from "elysia";
import { type SchemaGate, openGate } from "../db/schema-gate.ts";
import type { SchemaStatus } from "../db/migrations.ts";
import { HttpError } from "../errors.ts";
import { type HookContext, pathOf } from "./request-context.ts";

export function schemaGuard(schema: SchemaGate) {
  const plugin = new Elysia({ name: "schema-guard" });
  if (schema === openGate) return plugin;

  let last: SchemaStatus | undefined;
  let checking = false;
  const recheck = () => {
    if (checking) return;
    checking = true;
    schema
      .status()
      .then(
        (status) => {
          last = status;
        },
        (error: unknown) => {
          last = { upToDate: false, pending: 0, reason: `schema could not be checked: ${(error as Error)?.message}` };
        },
      )
      .finally(() => {
        checking = false;
      });
  };
  recheck();

  // onRequest, not beforeHandle: it must also cover paths no route matches, which skip beforeHandle.
  // The gate's own verdict where it offers one (one truth with /health, which asks the gate), else the last seen here.
  const verdict = schema.current === undefined ? () => last : () => schema.current?.() ?? last;
  return plugin.onRequest(function schemaGuard({ request, path }: HookContext) {
    const seen = verdict();
    if (seen?.upToDate || pathOf(request, path).startsWith("/health")) return;
    recheck();
    throw new HttpError(
      503,
      "schema_behind",
      seen?.reason ?? "the database schema has not been checked yet; retry shortly",
    );
  });
}
