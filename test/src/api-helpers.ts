/**
 * Helpers shared by the API suites: the dialects to run on, JSON requests, and a registered, logged-in user.
 * @module
 */
import { postgresAvailable } from "../support/postgres.ts";
import type { TestApp, TestDialect } from "../support/app.ts";

const pg = await postgresAvailable();
/** Every API suite runs on both databases (PostgreSQL when a server answers; CI makes its absence fatal). */
export const DIALECTS: TestDialect[] = ["sqlite", ...(pg ? (["postgres"] as const) : [])];

/** Test apps get a generous global limit so only the suites about rate limiting ever hit it. */
export const TEST_ENV = { RATE_LIMIT_PER_MINUTE: "1000000", AUTH_RATE_LIMIT_PER_MINUTE: "1000" };

export const PASSWORD = "correct horse battery staple";

export function json(method: string, body: unknown, token?: string, extra: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
    body: JSON.stringify(body),
  };
}

export const bearer = (token: string, extra: Record<string, string> = {}): RequestInit => ({
  headers: { authorization: `Bearer ${token}`, ...extra },
});

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

let counter = 0;
export async function signUp(
  t: TestApp,
  email = `user${++counter}-${crypto.randomUUID().slice(0, 6)}@example.com`,
): Promise<TestUser> {
  const reg = await t.request("/v1/auth/register", json("POST", { email, password: PASSWORD }));
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
  const user = (await reg.json()) as { id: string; email: string };
  const login = await t.request("/v1/auth/login", json("POST", { email, password: PASSWORD }));
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { access_token } = (await login.json()) as { access_token: string };
  return { id: user.id, email: user.email, token: access_token };
}

export async function createProject(t: TestApp, user: TestUser, name = `project-${crypto.randomUUID().slice(0, 8)}`) {
  const res = await t.request("/v1/projects", json("POST", { name }, user.token));
  if (res.status !== 201) throw new Error(`create project failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; name: string; description: string | null };
}

export async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; request_id: string; details?: unknown }> {
  const body = (await res.json()) as {
    error: { code: string; message: string; request_id: string; details?: unknown };
  };
  return body.error;
}
