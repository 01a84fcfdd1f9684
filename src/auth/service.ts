/**
 * Accounts and tokens, free of HTTP: register, log in, and turn an Authorization header into a user.
 * Routes map its results to responses.
 * @module
 */
import type { AccountRefusal } from "../db/accounts-repository.ts";
import type { Deletion } from "../db/deletions-repository.ts";
import type { Repository, User } from "../db/repository.ts";
import { conflict, HttpError, unauthorized } from "../errors.ts";
import { signToken, verifyToken } from "./jwt.ts";
import { burnPasswordCheck, hashPassword, verifyPassword } from "./passwords.ts";
import { authError, hashRefreshToken, newRefreshToken } from "./refresh-tokens.ts";

/** Who a verified access token names: the account and the session it was issued for. */
export interface Principal {
  userId: string;
  sessionId: string;
}

export interface AuthDeps {
  repo: Repository;
  secretKey: string;
  /** Seconds; from ACCESS_TOKEN_EXPIRE_MINUTES and REFRESH_TOKEN_EXPIRE_DAYS. */
  accessLifetimeSeconds: number;
  refreshLifetimeSeconds: number;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

export interface LoginResult {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_expires_in: number;
}

/** Emails compare case-insensitively in practice; storing one canonical form makes the unique index do the job. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** 401 for a valid token whose account has been deleted since it was issued. */
export function accountGone() {
  return unauthorized("the account for this token no longer exists");
}

/** 401 for a valid access token whose session was ended (logout, logout-all, refresh token reuse). */
export function sessionRevoked() {
  return authError("session_revoked", "this session has ended; log in again");
}

/**
 * 401 for a wrong password on an account route (the bearer token itself was fine), with its own code so a
 * client asks for the password again instead of logging the user out.
 */
export function passwordIncorrect() {
  return new HttpError(401, "password_incorrect", "the password is incorrect", undefined, {
    "www-authenticate": 'Bearer realm="flightdeck"',
  });
}

const refusal = ({ reason }: AccountRefusal) => (reason === "account_gone" ? accountGone() : sessionRevoked());

export function createAuthService(deps: AuthDeps) {
  const nowSeconds = () => Math.floor(deps.clock() / 1000);
  // One message for every login failure: which half was wrong is not the caller's business.
  const badLogin = () => unauthorized("email or password is incorrect");

  /**
   * The account and session a valid bearer token names, or 401 (`token_expired`, `token_invalid`) for a
   * missing, forged or expired token. It does not prove the account or the session is live: the caller's own
   * query must (see ownedProject, which joins both).
   */
  const subject = (authorization: string | null | undefined): Principal => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) throw unauthorized("send Authorization: Bearer <access_token> (from POST /v1/auth/login)");
    const verified = verifyToken(match[1], deps.secretKey, nowSeconds());
    if (!verified.ok) {
      throw verified.reason === "expired"
        ? authError("token_expired", "the access token has expired; POST /v1/auth/refresh for a new one")
        : authError("token_invalid", "the access token is invalid; log in again");
    }
    // Tokens issued before sessions existed name none: they cannot be revoked, so they are refused.
    if (!verified.claims.sid) throw authError("token_invalid", "the access token names no session; log in again");
    return { userId: verified.claims.sub, sessionId: verified.claims.sid };
  };

  /** An access token for session `sessionId` and the refresh token that continues it. */
  const tokenPair = (userId: string, sessionId: string, refreshToken: string): LoginResult => {
    const { token } = signToken(userId, deps.secretKey, nowSeconds(), deps.accessLifetimeSeconds, sessionId);
    return {
      access_token: token,
      refresh_token: refreshToken,
      token_type: "Bearer",
      expires_in: deps.accessLifetimeSeconds,
      refresh_expires_in: deps.refreshLifetimeSeconds,
    };
  };
  const refreshExpiry = () => new Date(deps.clock() + deps.refreshLifetimeSeconds * 1000);

  /**
   * Starts a new session family for the account and answers its first token pair, unless the password the
   * login checked was changed meanwhile (then the login fails like a wrong password).
   */
  const startSession = async (user: User): Promise<LoginResult> => {
    const refreshToken = newRefreshToken();
    const row = await deps.repo.sessions.createIfPassword(
      {
        userId: user.id,
        familyId: Bun.randomUUIDv7(),
        tokenHash: hashRefreshToken(refreshToken),
        expiresAt: refreshExpiry(),
      },
      user.passwordHash,
    );
    if (!row) throw badLogin();
    return tokenPair(user.id, row.id, refreshToken);
  };

  /** The user a bearer token names and its session, or 401 for a missing, forged, expired token, a revoked session or a deleted account. */
  const principalOf = async (authorization: string | null | undefined): Promise<{ user: User; who: Principal }> => {
    const who = subject(authorization);
    const { user, session } = await deps.repo.users.findWithSession(who.userId, who.sessionId);
    if (!user) throw accountGone();
    if (!session) throw sessionRevoked();
    return { user, who };
  };
  const authenticate = async (authorization: string | null | undefined): Promise<User> =>
    (await principalOf(authorization)).user;
  /** principalOf, and the account's password checked (the account routes ask for it again). */
  const withPassword = async (authorization: string | null | undefined, password: string) => {
    const found = await principalOf(authorization);
    if (!(await verifyPassword(password, found.user.passwordHash))) throw passwordIncorrect();
    return found;
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
      return startSession(user);
    },

    /**
     * Rotation (RFC 9700 section 4.14.2): the presented token is used up and a new pair answered. A token
     * already rotated is reuse: someone holds a copy, so the whole family is revoked and 401
     * `refresh_token_reused` answered.
     */
    async refresh(refreshToken: string): Promise<LoginResult> {
      const next = newRefreshToken();
      const now = new Date(deps.clock());
      const result = await deps.repo.sessions.rotate(
        hashRefreshToken(refreshToken),
        hashRefreshToken(next),
        refreshExpiry(),
        now,
      );
      if (result.ok) return tokenPair(result.next.userId, result.next.id, next);
      switch (result.reason) {
        case "reused":
          throw authError(
            "refresh_token_reused",
            "this refresh token was already used; the session is revoked, log in again",
          );
        case "revoked":
          throw authError("session_revoked", "this session has ended; log in again");
        case "expired":
          throw authError("token_expired", "the refresh token has expired; log in again");
        default:
          throw authError("token_invalid", "the refresh token is invalid; log in again");
      }
    },

    /** Ends the session the refresh token belongs to (every token of its family). Unknown tokens: 401. */
    async logout(refreshToken: string): Promise<void> {
      const row = await deps.repo.sessions.findByHash(hashRefreshToken(refreshToken));
      if (!row) throw authError("token_invalid", "the refresh token is invalid");
      await deps.repo.sessions.revokeFamily(row.familyId, new Date(deps.clock()));
    },

    /** Ends every session of the account the (live) bearer token names. */
    async logoutAll(authorization: string | null | undefined): Promise<void> {
      const user = await authenticate(authorization);
      await deps.repo.sessions.revokeUser(user.id, new Date(deps.clock()));
    },

    /**
     * A new password, and a new session for the caller: every session from before (the caller's old tokens
     * included) ends in the same transaction, so a thief holding any old token is out on every machine
     * (OWASP Session Management Cheat Sheet, "Renew the Session ID After Any Privilege Level Change").
     */
    async changePassword(
      authorization: string | null | undefined,
      currentPassword: string,
      newPassword: string,
    ): Promise<LoginResult> {
      const { user, who } = await withPassword(authorization, currentPassword);
      const refreshToken = newRefreshToken();
      const changed = await deps.repo.accounts.changePassword(
        who,
        await hashPassword(newPassword),
        { familyId: Bun.randomUUIDv7(), tokenHash: hashRefreshToken(refreshToken), expiresAt: refreshExpiry() },
        new Date(deps.clock()),
      );
      if (!changed.ok) throw refusal(changed);
      return tokenPair(user.id, changed.session.id, refreshToken);
    },

    /** Erases the account (password required) and answers the deletion work recorded for its projects' bytes. */
    async eraseAccount(authorization: string | null | undefined, password: string): Promise<Deletion[]> {
      const { who } = await withPassword(authorization, password);
      const erased = await deps.repo.accounts.erase(who, new Date(deps.clock()));
      if (!erased.ok) throw refusal(erased);
      return erased.deletions;
    },

    authenticate,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
