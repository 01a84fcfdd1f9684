/**
 * The account every API bench reads with: registered, logged in and owning one project, through the real
 * routes of the server at `base` (so the bench measures what a client's token and project really cost).
 * @module
 */

export interface BenchAccount {
  token: string;
  projectId: string;
  headers: { authorization: string };
}

export async function createBenchAccount(base: string, email: string): Promise<BenchAccount> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, string>>;
  };
  const credentials = { email, password: "bench password 123" };
  await post("/v1/auth/register", credentials);
  const { access_token: token } = await post("/v1/auth/login", credentials);
  const { id: projectId } = await post("/v1/projects", { name: "bench", description: "wrk target" }, token);
  if (!token || !projectId) throw new Error(`${base}: login or project creation answered no token or id`);
  return { token, projectId, headers: { authorization: `Bearer ${token}` } };
}
