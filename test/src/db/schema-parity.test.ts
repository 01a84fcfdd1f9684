/**
 * The two schemas are written by hand, once per dialect; this proves they describe the same tables,
 * columns, nullability, primary keys and indexes, so they cannot drift apart silently.
 */
import { expect, test } from "bun:test";
import { getTableConfig as pgTableConfig } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig } from "drizzle-orm/sqlite-core";
import * as pg from "../../../src/db/schema/pg.ts";
import * as sqlite from "../../../src/db/schema/sqlite.ts";

interface Shape {
  name: string;
  columns: { name: string; notNull: boolean; primary: boolean }[];
  indexes: { name: string; unique: boolean; columns: string[] }[];
  foreignKeys: string[];
}

function describeTables(tables: Record<string, unknown>, getConfig: (t: never) => unknown): Shape[] {
  return Object.values(tables)
    .map((table) => {
      const c = getConfig(table as never) as any;
      return {
        name: c.name,
        columns: c.columns
          .map((col: any) => ({ name: col.name, notNull: col.notNull, primary: col.primary }))
          .sort(byName),
        indexes: c.indexes
          .map((i: any) => ({
            name: i.config.name,
            unique: i.config.unique,
            columns: i.config.columns.map((col: any) => col.name),
          }))
          .sort(byName),
        foreignKeys: c.foreignKeys
          .map((fk: any) => {
            const ref = fk.reference();
            return `${ref.columns.map((x: any) => x.name)}->${ref.foreignColumns.map((x: any) => x.name)} ${fk.onDelete}`;
          })
          .sort(),
      };
    })
    .sort(byName);
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

test("PostgreSQL and SQLite schemas have the same tables, columns, nullability and indexes", () => {
  const pgShape = describeTables(pg, pgTableConfig as never);
  const sqliteShape = describeTables(sqlite, sqliteTableConfig as never);
  expect(pgShape.map((t) => t.name)).toEqual([
    "auth_attempts",
    "deletion_receipts",
    "deletions",
    "file_renames",
    "files",
    "projects",
    "sessions",
    "users",
    "volumes",
  ]);
  expect(sqliteShape).toEqual(pgShape);
});

test("both dialects' generated migrations cover the same number of schema changes", async () => {
  const pgJournal = await Bun.file(new URL("../../../drizzle/pg/meta/_journal.json", import.meta.url)).json();
  const sqliteJournal = await Bun.file(new URL("../../../drizzle/sqlite/meta/_journal.json", import.meta.url)).json();
  expect(pgJournal.entries.map((e: { tag: string }) => e.tag.replace(/^\d+_/, ""))).toEqual(
    sqliteJournal.entries.map((e: { tag: string }) => e.tag.replace(/^\d+_/, "")),
  );
});
