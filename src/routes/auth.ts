/**
 * Accounts and sessions: POST /v1/auth/register, /login, /refresh, /logout, /logout-all, GET /v1/me.
 * Register, login and refresh share a strict per-IP limiter (AUTH_RATE_LIMIT_PER_MINUTE, counted fleet-wide in the database: src/auth/login-limiter.ts)
 * on top of the global one, to slow password guessing; the account routes that take a password (src/routes/me.ts) share it too.
 * @module
 */
import { Elysia, t } from "elysia";
import type { Config } from "../../lib/config.ts";
import type { LoginLimiter } from "../auth/login-limiter.ts";
import { type AuthService, normaliseEmail } from "../auth/service.ts";
import type { User } from "../db/repository.ts";
import { forbidden, HttpError } from "../errors.ts";
import { jsonBody } from "../plugins/json-body.ts";
import { clientIpOf, rateLimitHeaders, tooManyRequests } from "../plugins/rate-limit.ts";
import { BearerAuth, errors, SAFE_LINE } from "./schemas.ts";

/** Deliberately simple (one @, a dot in the domain, no spaces): the mailbox itself is the real check. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

const UserView = t.Object({ id: t.String(), email: t.String(), created_at: t.String({ format: "date-time" }) });
export const TokenView = t.Object({
  access_token: t.String(),
  refresh_token: t.String({ description: "single use: POST /v1/auth/refresh answers the next one" }),
  token_type: t.Literal("Bearer"),
  expires_in: t.Integer({ description: "seconds the access token lives" }),
  refresh_expires_in: t.Integer({ description: "seconds the refresh token lives" }),
});
// 43 characters is 32 bytes in base64url; the bound only keeps junk from being hashed.
const RefreshBody = t.Object(
  { refresh_token: t.String({ minLength: 1, maxLength: 512, pattern: "^[A-Za-z0-9_-]+$" }) },
  { additionalProperties: false },
);

/** The rule for a password being set (registration, POST /v1/me/password). */
// The upper bound keeps hashing cost bounded; 1024 is far above any passphrase.
export const NewPassword = t.String({ minLength: 12, maxLength: 1024, description: "at least 12 characters" });
/** A password being checked: any length the hash could hold, so a short old password can still be given. */
export const GivenPassword = t.String({ maxLength: 1024 });

const Credentials = t.Object(
  {
    email: t.String({ maxLength: 254, pattern: SAFE_LINE, description: "trimmed and lower-cased before use" }),
    password: NewPassword,
  },
  { additionalProperties: false },
);
const LoginBody = t.Object(
  { email: t.String({ maxLength: 254, pattern: SAFE_LINE }), password: GivenPassword },
  { additionalProperties: false },
);

export function userView(user: User) {
  return { id: user.id, email: user.email, created_at: user.createdAt.toISOString() };
}

/** beforeHandle for every route that takes a password or a refresh token: one per-IP budget across all of them. */
export function authThrottle(limiter: LoginLimiter) {
  return async ({ request, set }: { request: Request; set: { headers: Record<string, string | number> } }) => {
    const decision = await limiter.hit(clientIpOf(request));
    if (!decision.allowed) throw tooManyRequests(decision, "login, registration, refresh or password attempts");
    Object.assign(set.headers, rateLimitHeaders(decision));
  };
}

export function authRoutes(config: Pick<Config, "enableRegistration">, auth: AuthService, limiter: LoginLimiter) {
  const throttle = authThrottle(limiter);

  return new Elysia({ name: "auth-routes", prefix: "/v1" })
    .post(
      "/auth/register",
      async ({ body, set }) => {
        if (!config.enableRegistration)
          throw forbidden(
            "registration_disabled",
            "registration is disabled on this server (ENABLE_REGISTRATION=false)",
          );
        const email = normaliseEmail(body.email);
        // Checked after trimming, so "  Alice@Example.com " is accepted as alice@example.com.
        if (!EMAIL.test(email)) {
          throw new HttpError(422, "validation_failed", "the request did not match the expected schema", [
            { field: "/email", message: "must be an email address" },
          ]);
        }
        const user = await auth.register(email, body.password);
        set.status = 201;
        return userView(user);
      },
      {
        beforeHandle: throttle,
        parse: jsonBody(),
        body: Credentials,
        response: { 201: UserView, ...errors(400, 403, 409, 413, 415, 422) },
        detail: { summary: "Create an account", tags: ["auth"], operationId: "register" },
      },
    )
    .post("/auth/login", ({ body }) => auth.login(body.email, body.password), {
      beforeHandle: throttle,
      parse: jsonBody(),
      body: LoginBody,
      response: { 200: TokenView, ...errors(400, 401, 413, 415, 422) },
      detail: {
        summary: "Exchange email and password for an access token and a refresh token",
        tags: ["auth"],
        operationId: "login",
      },
    })
    .post("/auth/refresh", ({ body }) => auth.refresh(body.refresh_token), {
      beforeHandle: throttle,
      parse: jsonBody(),
      body: RefreshBody,
      response: { 200: TokenView, ...errors(400, 401, 413, 415, 422) },
      detail: {
        summary: "Rotate a refresh token: a new pair; presenting a used one revokes the session",
        tags: ["auth"],
        operationId: "refresh",
      },
    })
    .post(
      "/auth/logout",
      async ({ body, set }) => {
        await auth.logout(body.refresh_token);
        set.status = 204;
      },
      {
        parse: jsonBody(),
        body: RefreshBody,
        response: { 204: t.Void(), ...errors(400, 401, 413, 415, 422) },
        detail: {
          summary: "End the session of this refresh token, its access tokens included",
          tags: ["auth"],
          operationId: "logout",
        },
      },
    )
    .post(
      "/auth/logout-all",
      async ({ headers, set }) => {
        await auth.logoutAll(headers.authorization);
        set.status = 204;
      },
      {
        response: { 204: t.Void(), ...errors(401) },
        detail: {
          summary: "End every session of the account",
          tags: ["auth"],
          operationId: "logoutAll",
          security: BearerAuth,
        },
      },
    )
    .get("/me", async ({ headers }) => userView(await auth.authenticate(headers.authorization)), {
      response: { 200: UserView, ...errors(401) },
      detail: {
        summary: "The account the bearer token belongs to",
        tags: ["auth"],
        operationId: "getMe",
        security: BearerAuth,
      },
    });
}
