/**
 * Accounts and tokens, free of HTTP: register, log in, and turn an Authorization header into a user.
 * Routes map its results to responses.
 * @module
 */
import type { Repository, User } from "../db/repository.ts";
import { conflict, unauthorized } from "../errors.ts";
import { signToken, verifyToken } from "./jwt.ts";
import { burnPasswordCheck, hashPassword, verifyPassword } from "./passwords.ts";

export const TOKEN_LIFETIME_SECONDS = 30 * 60;

export interface AuthDeps {
  repo: Repository;
  secretKey: string;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

export interface LoginResult {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
}

/** Emails compare case-insensitively in practice; storing one canonical form makes the unique index do the job. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** 401 for a valid token whose account has been deleted since it was issued. */
export function accountGone() {
  return unauthorized("the account for this token no longer exists");
}

export function createAuthService(deps: AuthDeps) {
  const nowSeconds = () => Math.floor(deps.clock() / 1000);
  // One message for every login failure: which half was wrong is not the caller's business.
  const badLogin = () => unauthorized("email or password is incorrect");

  /**
   * The user id a valid bearer token names, or 401 for a missing, forged or expired token. It does not prove
   * the account still exists: the caller's own query must (see ownedProject, which joins the account).
   */
  const subject = (authorization: string | null | undefined): string => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) throw unauthorized("send Authorization: Bearer <access_token> (from POST /v1/auth/login)");
    const verified = verifyToken(match[1], deps.secretKey, nowSeconds());
    if (!verified.ok) {
      throw unauthorized(
        verified.reason === "expired" ? "the access token has expired; log in again" : "the access token is invalid",
      );
    }
    return verified.claims.sub;
  };

  return {
    subject,

    async register(email: string, password: string): Promise<User> {
      const created = await deps.repo.users.create({
        email: normaliseEmail(email),
        passwordHash: await hashPassword(password),
      });
      if (!created.ok) throw conflict("an account with this email already exists");
      return created.value;
    },

    async login(email: string, password: string): Promise<LoginResult> {
      const user = await deps.repo.users.findByEmail(normaliseEmail(email));
      const ok = user ? await verifyPassword(password, user.passwordHash) : await burnPasswordCheck(password);
      if (!user || !ok) throw badLogin();
      const { token } = signToken(user.id, deps.secretKey, nowSeconds(), TOKEN_LIFETIME_SECONDS);
      return { access_token: token, token_type: "Bearer", expires_in: TOKEN_LIFETIME_SECONDS };
    },

    /** The user a bearer token names, or 401 for a missing, forged, expired token or a deleted account. */
    async authenticate(authorization: string | null | undefined): Promise<User> {
      const user = await deps.repo.users.findById(subject(authorization));
      if (!user) throw accountGone();
      return user;
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
