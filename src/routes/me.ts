/**
 * The caller's own account: POST /v1/me/password and DELETE /v1/me. Both ask for the password again on top of
 * the bearer token (a stolen access token alone must not lock the owner out or erase the account) and count
 * against the auth rate limit like login, since each is a password guess.
 * Deleting an account does what deleting each of its projects does (src/routes/projects.ts): the deletion work
 * is recorded with the rows' deletion, this volume's share is done at once, every other volume drains its own.
 * @module
 */
import { Elysia, t } from "elysia";
import type { Logger } from "../../lib/log.ts";
import type { LoginLimiter } from "../auth/login-limiter.ts";
import type { AuthService } from "../auth/service.ts";
import type { Deletion } from "../db/deletions-repository.ts";
import type { Repository } from "../db/repository.ts";
import type { MediaStore } from "../media/store.ts";
import type { Volume } from "../media/volume.ts";
import { jsonBody } from "../plugins/json-body.ts";
import { authThrottle, GivenPassword, NewPassword, TokenView } from "./auth.ts";
import { BearerAuth, errors } from "./schemas.ts";

const PasswordChange = t.Object(
  { current_password: GivenPassword, new_password: NewPassword },
  { additionalProperties: false },
);
const AccountDeletion = t.Object({ password: GivenPassword }, { additionalProperties: false });

export interface MeRouteDeps {
  repo: Repository;
  auth: AuthService;
  limiter: LoginLimiter;
  media: MediaStore;
  volume: Volume;
  logger: Logger;
}

export function meRoutes({ repo, auth, limiter, media, volume, logger }: MeRouteDeps) {
  const throttle = authThrottle(limiter);

  /** This volume's share of the work; a failure is left to the upkeep drain, which retries every tick. */
  const removeHere = async (deletions: Deletion[]) => {
    if (deletions.length === 0) return;
    try {
      const mine = await volume.identity();
      for (const deletion of deletions) {
        await media.removeProject(deletion.projectId);
        await repo.deletions.receipt(deletion.id, mine.id, new Date());
      }
    } catch (error) {
      logger.error("account files not yet removed from this volume; the upkeep drain retries", {
        projects: deletions.length,
        error,
      });
    }
  };

  return new Elysia({ name: "me-routes", prefix: "/v1/me" })
    .post(
      "/password",
      ({ headers, body }) => auth.changePassword(headers.authorization, body.current_password, body.new_password),
      {
        beforeHandle: throttle,
        parse: jsonBody(),
        body: PasswordChange,
        response: { 200: TokenView, ...errors(400, 401, 413, 415, 422) },
        detail: {
          summary: "Change your password: a new token pair; every other session of the account ends",
          description:
            "401 `password_incorrect` when current_password is wrong. The answer starts a new session; every " +
            "session from before, this one's old tokens included, is revoked on every machine.",
          operationId: "changePassword",
          tags: ["auth"],
          security: BearerAuth,
        },
      },
    )
    .delete(
      "",
      async ({ headers, body, set }) => {
        await removeHere(await auth.eraseAccount(headers.authorization, body.password));
        set.status = 204;
      },
      {
        beforeHandle: throttle,
        parse: jsonBody(),
        body: AccountDeletion,
        response: {
          204: t.Void({ description: "erased: the account, its sessions, projects and files" }),
          ...errors(400, 401, 413, 415, 422),
        },
        detail: {
          summary: "Delete your account with all its projects and files; the email can register again",
          description:
            "401 `password_incorrect` when the password is wrong. Files are removed from every machine's volume.",
          operationId: "deleteAccount",
          tags: ["auth"],
          security: BearerAuth,
        },
      },
    );
}
