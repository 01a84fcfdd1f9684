/**
 * The account-wide changes and refresh rotation are single transactions (src/db/atomic.ts) on both dialects:
 * when a late statement fails, the earlier ones are rolled back. Failures are real database errors: a trigger
 * refusing the account's DELETE, a unique-index violation on the new session's token hash.
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Driver } from "../../../src/db/database.ts";
import { openPostgres } from "../../../src/db/postgres.ts";
import { createRepository, type Repository } from "../../../src/db/repository.ts";
import { openSqlite } from "../../../src/db/sqlite.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../support/postgres.ts";
import { DIALECTS } from "../api-helpers.ts";

const TRIGGER = {
  sqlite: [
    "create trigger refuse_user_delete before delete on users begin select raise(abort, 'refused by test'); end",
  ],
  postgres: [
    "create function refuse_user_delete() returns trigger language plpgsql as $$ begin raise exception 'refused by test'; end $$",
    "create trigger refuse_user_delete before delete on users for each row execute function refuse_user_delete()",
  ],
};

for (const dialect of DIALECTS) {
  describe(`transactions on ${dialect}`, () => {
    let driver: Driver;
    let repo: Repository;
    let scratch: ScratchDatabase | undefined;
    const now = new Date();
    const later = new Date(now.getTime() + 86_400_000);
    const raw = (statement: string) =>
      dialect === "sqlite" ? driver.db.run(sql.raw(statement)) : driver.db.execute(sql.raw(statement));
    const count = async (table: string, where: string) => {
      const statement = `select count(*) as n from ${table} where ${where}`;
      const rows =
        dialect === "sqlite" ? driver.db.all(sql.raw(statement)) : await driver.db.execute(sql.raw(statement));
      return Number(rows[0].n);
    };

    beforeAll(async () => {
      if (dialect === "postgres") {
        scratch = await createScratchDatabase("atomic");
        driver = await openPostgres(scratch.url, { poolSize: 4, maxLifetimeS: 60, idleTimeoutS: 10 });
      } else {
        driver = openSqlite("");
      }
      await driver.runMigrations();
      repo = createRepository(driver.db, driver.tables, driver.isUniqueViolation, driver.atomic);
    });
    afterAll(async () => {
      await driver.close();
      await scratch?.drop();
    });

    const account = async () => {
      const created = await repo.users.create({ email: `${crypto.randomUUID()}@example.com`, passwordHash: "h0" });
      if (!created.ok) throw new Error("user not created");
      const user = created.value;
      const tokenHash = crypto.randomUUID();
      const session = await repo.sessions.create({
        userId: user.id,
        familyId: crypto.randomUUID(),
        tokenHash,
        expiresAt: later,
      });
      const project = await repo.projects.create({ ownerId: user.id, name: "p", description: null });
      if (!project.ok) throw new Error("project not created");
      return { user, session, tokenHash, project: project.value, who: { userId: user.id, sessionId: session.id } };
    };

    test("erase: deletion work recorded for each project, then the account and everything under it gone", async () => {
      const mine = await account();
      const second = await repo.projects.create({ ownerId: mine.user.id, name: "q", description: null });
      const other = await account();
      const erased = await repo.accounts.erase(mine.who, now);
      expect(erased.ok).toBe(true);
      if (!erased.ok) return;
      expect(erased.deletions.map((d) => d.projectId).sort()).toEqual(
        [mine.project.id, second.ok ? second.value.id : ""].sort(),
      );
      expect(erased.deletions.every((d) => d.path === null)).toBe(true);
      expect(await repo.users.findById(mine.user.id)).toBeUndefined();
      expect(await count("sessions", `user_id = '${mine.user.id}'`)).toBe(0);
      expect(await count("projects", `owner_id = '${mine.user.id}'`)).toBe(0);
      // The other account is untouched.
      expect(await repo.projects.get(other.user.id, other.project.id)).toBeDefined();
      expect((await repo.users.findWithSession(other.user.id, other.session.id)).session).toBe(true);
      // A second erase (another machine, same moment) finds nothing to do.
      expect(await repo.accounts.erase(mine.who, now)).toEqual({ ok: false, reason: "account_gone" });
    });

    test("erase from an ended session is refused and changes nothing", async () => {
      const mine = await account();
      await repo.sessions.revokeUser(mine.user.id, now);
      expect(await repo.accounts.erase(mine.who, now)).toEqual({ ok: false, reason: "session_revoked" });
      expect(await repo.projects.get(mine.user.id, mine.project.id)).toBeDefined();
      expect(await count("deletions", `project_id = '${mine.project.id}'`)).toBe(0);
    });

    test("erase whose account delete fails rolls the recorded deletion work back too", async () => {
      const mine = await account();
      for (const statement of TRIGGER[dialect]) await raw(statement);
      try {
        await expect(repo.accounts.erase(mine.who, now)).rejects.toThrow();
      } finally {
        await raw(`drop trigger refuse_user_delete${dialect === "postgres" ? " on users" : ""}`);
      }
      expect(await count("deletions", `project_id = '${mine.project.id}'`)).toBe(0);
      expect(await repo.users.findById(mine.user.id)).toBeDefined();
      expect(await repo.projects.get(mine.user.id, mine.project.id)).toBeDefined();
    });

    test("a password change that cannot start its new session changes neither the password nor any session", async () => {
      const mine = await account();
      const other = await repo.sessions.create({
        userId: mine.user.id,
        familyId: crypto.randomUUID(),
        tokenHash: crypto.randomUUID(),
        expiresAt: later,
      });
      const collides = `collides-${crypto.randomUUID()}`;
      await repo.sessions.create({
        userId: mine.user.id,
        familyId: crypto.randomUUID(),
        tokenHash: collides,
        expiresAt: later,
      });
      // The new session's token hash collides with an existing one: the INSERT, last in the transaction, fails.
      await expect(
        repo.accounts.changePassword(
          mine.who,
          "h1",
          { familyId: crypto.randomUUID(), tokenHash: collides, expiresAt: later },
          now,
        ),
      ).rejects.toThrow();
      expect((await repo.users.findById(mine.user.id))?.passwordHash).toBe("h0");
      expect((await repo.users.findWithSession(mine.user.id, other.id)).session).toBe(true);
      expect((await repo.users.findWithSession(mine.user.id, mine.session.id)).session).toBe(true);

      const changed = await repo.accounts.changePassword(
        mine.who,
        "h1",
        { familyId: crypto.randomUUID(), tokenHash: crypto.randomUUID(), expiresAt: later },
        now,
      );
      expect(changed.ok).toBe(true);
      expect((await repo.users.findById(mine.user.id))?.passwordHash).toBe("h1");
      expect((await repo.users.findWithSession(mine.user.id, other.id)).session).toBe(false);
      expect((await repo.users.findWithSession(mine.user.id, mine.session.id)).session).toBe(false);
      if (changed.ok) expect((await repo.users.findWithSession(mine.user.id, changed.session.id)).session).toBe(true);
    });

    test("a login's session is stored only while the password it checked is still the account's", async () => {
      const mine = await account();
      const input = { userId: mine.user.id, familyId: crypto.randomUUID(), expiresAt: later };
      expect(await repo.sessions.createIfPassword({ ...input, tokenHash: crypto.randomUUID() }, "h0")).toBeDefined();
      // A password change committed between the login's check and its insert: the hash differs, nothing is stored.
      expect(
        await repo.sessions.createIfPassword({ ...input, tokenHash: crypto.randomUUID() }, "h-old"),
      ).toBeUndefined();
      expect(await count("sessions", `user_id = '${mine.user.id}'`)).toBe(2);
    });

    test("a rotation that cannot insert its successor leaves the presented token unused", async () => {
      const mine = await account();
      const token = `rotate-${crypto.randomUUID()}`;
      await repo.sessions.create({
        userId: mine.user.id,
        familyId: crypto.randomUUID(),
        tokenHash: token,
        expiresAt: later,
      });
      // The successor's hash is one already stored: the INSERT after the guarded UPDATE violates the unique index.
      await expect(repo.sessions.rotate(token, mine.tokenHash, later, now)).rejects.toThrow();
      const row = await repo.sessions.findByHash(token);
      expect(row?.usedAt).toBeNull();
      // So the client's retry is an ordinary rotation, not reuse.
      const retried = await repo.sessions.rotate(token, crypto.randomUUID(), later, now);
      expect(retried.ok).toBe(true);
    });
  });
}
