// A stateful fake of the GitHub REST endpoints a preview uses: issue comments (list with per_page/page
// pagination and Link headers, create, update, delete), pull requests (get, list), and deployments with their
// statuses (create, list by environment, newest first; `auto_inactive` retires earlier successful
// deployments of the same environment unless they are transient or production, as GitHub documents; a ref
// must be a commit SHA or a known branch; without `required_contexts` a commit whose checks are still pending
// is refused with 409, as GitHub does). It answers as
// api.github.com does for these calls (status codes, `message` bodies, 401 without the token, 403 for a
// read-only token), and injects faults on demand: a status for the next N matching calls, latency, a dropped
// connection, or a write that is applied and whose response is then lost.
// Shapes: https://docs.github.com/en/rest/issues/comments, https://docs.github.com/en/rest/pulls/pulls,
// https://docs.github.com/en/rest/deployments/deployments, https://docs.github.com/en/rest/deployments/statuses

export interface FakeComment {
  id: number;
  issue_number: number;
  body: string;
  user: { login: string; type: "Bot" | "User" };
  created_at: string;
  updated_at: string;
}

export interface FakePull {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  head: { sha: string };
}

export type FakeDeploymentState = "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";

export interface FakeDeploymentStatus {
  id: number;
  state: FakeDeploymentState;
  environment_url: string;
  log_url: string;
  description: string;
  created_at: string;
}

export interface FakeDeployment {
  id: number;
  ref: string;
  sha: string;
  task: string;
  environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  /** Oldest first (the API lists them newest first). */
  statuses: FakeDeploymentStatus[];
}

export interface FakeGitHubCall {
  method: string;
  path: string;
  query: string;
  status: number;
}

export interface FakeGitHubFault {
  method?: string;
  /** Substring of, or pattern for, the request path. */
  path?: string | RegExp;
  /** Answer this status (with `body` and `headers`) instead of the real answer. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Close the connection without a usable response. */
  drop?: boolean;
  /** Apply the request to the state first, then answer with the fault (a lost response). */
  afterApply?: boolean;
  latencyMs?: number;
  /** How many matching calls this fault applies to (default 1). */
  times?: number;
}

export interface FakeGitHubOptions {
  token?: string;
  repository?: string;
  /** The account our token acts as (GITHUB_TOKEN comments as github-actions[bot]). */
  login?: string;
  /** A fork's token: reads work, writes answer 403 "Resource not accessible by integration". */
  readOnly?: boolean;
  latencyMs?: number;
}

export interface FakeGitHub {
  url: string;
  token: string;
  repository: string;
  login: string;
  state: {
    comments: FakeComment[];
    pulls: Map<number, FakePull>;
    deployments: FakeDeployment[];
    /** Branch name -> head SHA: refs a deployment may name besides a SHA. */
    branches: Map<string, string>;
    /** Commits whose status checks are still running (a deployment without required_contexts gets 409). */
    pendingChecks: Set<string>;
  };
  calls: FakeGitHubCall[];
  faults: FakeGitHubFault[];
  /** Env for code under test: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL. */
  env: Record<string, string>;
  commentsOn(issue: number): FakeComment[];
  addComment(issue: number, body: string, user?: { login: string; type?: "Bot" | "User" }): FakeComment;
  setPull(number: number, state: "open" | "closed", extra?: Partial<FakePull>): FakePull;
  /** Deployments of an environment, oldest first. */
  deploymentsIn(environment: string): FakeDeployment[];
  /** A deployment's current state (its newest status), or undefined before any status. */
  deploymentState(deployment: FakeDeployment): FakeDeploymentState | undefined;
  close(): void;
}

const ROUTE_LIST = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/;
const ROUTE_ONE = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/;
const ROUTE_PULL = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/;
const ROUTE_PULLS = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/;
const ROUTE_DEPLOYMENTS = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/;
const ROUTE_DEPLOYMENT_STATUSES = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/;
const DEPLOYMENT_STATES = new Set(["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]);

export function startFakeGitHub(options: FakeGitHubOptions = {}): FakeGitHub {
  const token = options.token ?? `ghs_fake${crypto.randomUUID().replace(/-/g, "")}`;
  const repository = options.repository ?? "acme/flightdeck";
  const login = options.login ?? "github-actions[bot]";
  const state = {
    comments: [] as FakeComment[],
    pulls: new Map<number, FakePull>(),
    deployments: [] as FakeDeployment[],
    branches: new Map<string, string>([["main", "1".repeat(40)]]),
    pendingChecks: new Set<string>(),
  };
  const calls: FakeGitHubCall[] = [];
  const faults: FakeGitHubFault[] = [];
  let nextId = 1000;
  let clock = Date.parse("2025-01-01T00:00:00Z");
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "x-github-request-id": `FAKE:${nextId}`,
        ...headers,
      },
    });
  const message = (status: number, text: string) =>
    json(status, { message: text, documentation_url: "https://docs.github.com/rest" });

  function addComment(issue: number, body: string, user?: { login: string; type?: "Bot" | "User" }): FakeComment {
    const at = now();
    const comment: FakeComment = {
      id: nextId++,
      issue_number: issue,
      body,
      user: { login: user?.login ?? login, type: user?.type ?? (user ? "User" : "Bot") },
      created_at: at,
      updated_at: at,
    };
    state.comments.push(comment);
    return comment;
  }

  function present(comment: FakeComment, origin: string) {
    const [owner, repo] = repository.split("/");
    return {
      ...comment,
      url: `${origin}/repos/${owner}/${repo}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${repository}/pull/${comment.issue_number}#issuecomment-${comment.id}`,
    };
  }

  function takeFault(method: string, path: string): FakeGitHubFault | undefined {
    const index = faults.findIndex(
      (f) =>
        (!f.method || f.method.toUpperCase() === method) &&
        (!f.path || (typeof f.path === "string" ? path.includes(f.path) : f.path.test(path))),
    );
    if (index === -1) return undefined;
    const fault = faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  }

  function paginate<T>(items: T[], url: URL): { page: T[]; link?: string } | Response {
    const perPageRaw = url.searchParams.get("per_page") ?? "30";
    const pageRaw = url.searchParams.get("page") ?? "1";
    if (!/^\d+$/.test(perPageRaw) || !/^\d+$/.test(pageRaw)) return message(422, "Validation Failed");
    // GitHub clamps per_page to 1..100 rather than rejecting it.
    const perPage = Math.min(100, Math.max(1, Number(perPageRaw)));
    const page = Math.max(1, Number(pageRaw));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const at = (p: number) => {
      const target = new URL(url);
      target.searchParams.set("per_page", String(perPage));
      target.searchParams.set("page", String(p));
      return `<${target.toString()}>`;
    };
    const links: string[] = [];
    if (page > 1) links.push(`${at(page - 1)}; rel="prev"`);
    if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
    if (page > 1) links.push(`${at(1)}; rel="first"`);
    return { page: slice, link: links.length > 0 ? links.join(", ") : undefined };
  }

  async function readBody(request: Request): Promise<{ body: string } | Response> {
    let parsed: unknown;
    try {
      parsed = await request.json();
    } catch {
      return message(400, "Problems parsing JSON");
    }
    const body = (parsed as { body?: unknown } | null)?.body;
    if (typeof body !== "string" || body.length === 0) return message(422, "Validation Failed");
    // GitHub rejects comment bodies over 65536 characters.
    if (body.length > 65536) return message(422, "Validation Failed: body is too long (maximum is 65536 characters)");
    return { body };
  }

  async function route(request: Request, url: URL): Promise<Response> {
    const auth = request.headers.get("authorization") ?? "";
    if (auth !== `Bearer ${token}` && auth !== `token ${token}`) return message(401, "Bad credentials");
    const method = request.method;
    const path = url.pathname;
    const repoOf = (m: RegExpExecArray) => `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
    const readOnlyRefusal = () => message(403, "Resource not accessible by integration");

    let m = ROUTE_LIST.exec(path);
    if (m) {
      if (repoOf(m) !== repository) return message(404, "Not Found");
      const issue = Number(m[3]);
      if (method === "GET") {
        const result = paginate(
          state.comments.filter((c) => c.issue_number === issue),
          url,
        );
        if (result instanceof Response) return result;
        return json(
          200,
          result.page.map((c) => present(c, url.origin)),
          result.link ? { link: result.link } : {},
        );
      }
      if (method === "POST") {
        if (options.readOnly) return readOnlyRefusal();
        const body = await readBody(request);
        if (body instanceof Response) return body;
        return json(201, present(addComment(issue, body.body), url.origin));
      }
      return message(404, "Not Found");
    }

    m = ROUTE_ONE.exec(path);
    if (m) {
      if (repoOf(m) !== repository) return message(404, "Not Found");
      const comment = state.comments.find((c) => c.id === Number(m![3]));
      if (!comment) return message(404, "Not Found");
      if (method === "GET") return json(200, present(comment, url.origin));
      if (options.readOnly) return readOnlyRefusal();
      if (method === "PATCH") {
        const body = await readBody(request);
        if (body instanceof Response) return body;
        comment.body = body.body;
        comment.updated_at = now();
        return json(200, present(comment, url.origin));
      }
      if (method === "DELETE") {
        state.comments.splice(state.comments.indexOf(comment), 1);
        return new Response(null, { status: 204 });
      }
      return message(404, "Not Found");
    }

    m = ROUTE_PULL.exec(path);
    if (m && method === "GET") {
      if (repoOf(m) !== repository) return message(404, "Not Found");
      const pull = state.pulls.get(Number(m[3]));
      return pull ? json(200, pull) : message(404, "Not Found");
    }

    m = ROUTE_PULLS.exec(path);
    if (m && method === "GET") {
      if (repoOf(m) !== repository) return message(404, "Not Found");
      const wanted = url.searchParams.get("state") ?? "open";
      const all = [...state.pulls.values()].filter((p) => wanted === "all" || p.state === wanted);
      const result = paginate(all, url);
      if (result instanceof Response) return result;
      return json(200, result.page, result.link ? { link: result.link } : {});
    }

    m = ROUTE_DEPLOYMENTS.exec(path);
    if (m) {
      if (repoOf(m) !== repository) return message(404, "Not Found");
      if (method === "GET") {
        const filters = ["environment", "ref", "sha", "task"] as const;
        const found = state.deployments
          .filter((d) => filters.every((key) => !url.searchParams.has(key) || d[key] === url.searchParams.get(key)))
          .reverse();
        const result = paginate(found, url);
        if (result instanceof Response) return result;
        return json(
          200,
          result.page.map((d) => presentDeployment(d, url.origin)),
          result.link ? { link: result.link } : {},
        );
      }
      if (method === "POST") {
        if (options.readOnly) return readOnlyRefusal();
        const input = await readJson(request);
        if (input instanceof Response) return input;
        return createDeployment(input, url.origin);
      }
      return message(404, "Not Found");
    }

    m = ROUTE_DEPLOYMENT_STATUSES.exec(path);
    if (m) {
      if (repoOf(m) !== repository) return message(404, "Not Found");
      const deployment = state.deployments.find((d) => d.id === Number(m![3]));
      if (!deployment) return message(404, "Not Found");
      if (method === "GET") {
        const result = paginate([...deployment.statuses].reverse(), url);
        if (result instanceof Response) return result;
        return json(200, result.page, result.link ? { link: result.link } : {});
      }
      if (method === "POST") {
        if (options.readOnly) return readOnlyRefusal();
        const input = await readJson(request);
        if (input instanceof Response) return input;
        return createDeploymentStatus(deployment, input);
      }
      return message(404, "Not Found");
    }

    return message(404, "Not Found");
  }

  async function readJson(request: Request): Promise<Record<string, unknown> | Response> {
    try {
      const parsed = (await request.json()) as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through
    }
    return message(400, "Problems parsing JSON");
  }

  const invalid = (field: string, code = "invalid") =>
    json(422, {
      message: "Validation Failed",
      errors: [{ resource: "Deployment", field, code }],
      documentation_url: "https://docs.github.com/rest",
    });

  function presentDeployment(d: FakeDeployment, origin: string) {
    const { statuses: _statuses, ...rest } = d;
    const [owner, repo] = repository.split("/");
    return {
      ...rest,
      url: `${origin}/repos/${owner}/${repo}/deployments/${d.id}`,
      statuses_url: `${origin}/repos/${owner}/${repo}/deployments/${d.id}/statuses`,
      creator: { login, type: "Bot" },
    };
  }

  function createDeployment(input: Record<string, unknown>, origin: string): Response {
    const ref = input.ref;
    if (typeof ref !== "string" || ref === "") return invalid("ref", "missing_field");
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : state.branches.get(ref.replace(/^refs\/heads\//, ""));
    if (!sha) return message(422, `No ref found for: ${ref}`);
    const environment = input.environment ?? "production";
    if (typeof environment !== "string" || environment === "") return invalid("environment");
    for (const key of ["transient_environment", "production_environment", "auto_merge"] as const) {
      if (input[key] !== undefined && typeof input[key] !== "boolean") return invalid(key);
    }
    const contexts = input.required_contexts;
    if (contexts !== undefined && (!Array.isArray(contexts) || contexts.some((c) => typeof c !== "string")))
      return invalid("required_contexts");
    if (contexts === undefined && state.pendingChecks.has(sha)) {
      return message(409, `Conflict: Commit status checks failed for ${ref}.`);
    }
    const deployment: FakeDeployment = {
      id: nextId++,
      ref,
      sha,
      task: typeof input.task === "string" ? input.task : "deploy",
      environment,
      description: typeof input.description === "string" ? input.description : null,
      transient_environment: input.transient_environment === true,
      production_environment:
        typeof input.production_environment === "boolean" ? input.production_environment : environment === "production",
      created_at: now(),
      statuses: [],
    };
    state.deployments.push(deployment);
    return json(201, presentDeployment(deployment, origin));
  }

  function createDeploymentStatus(deployment: FakeDeployment, input: Record<string, unknown>): Response {
    const stateName = input.state;
    if (typeof stateName !== "string" || !DEPLOYMENT_STATES.has(stateName)) return invalid("state");
    for (const key of ["environment_url", "log_url", "target_url"] as const) {
      const value = input[key];
      if (value !== undefined && (typeof value !== "string" || (value !== "" && !/^https?:\/\//.test(value))))
        return invalid(key);
    }
    const description = input.description ?? "";
    if (typeof description !== "string" || description.length > 140) return invalid("description");
    const status: FakeDeploymentStatus = {
      id: nextId++,
      state: stateName as FakeDeploymentState,
      environment_url: typeof input.environment_url === "string" ? input.environment_url : "",
      log_url:
        typeof input.log_url === "string"
          ? input.log_url
          : typeof input.target_url === "string"
            ? input.target_url
            : "",
      description,
      created_at: now(),
    };
    deployment.statuses.push(status);
    // auto_inactive (default true): earlier non-transient, non-production deployments of the environment
    // whose state was success get an inactive status.
    if (status.state === "success" && input.auto_inactive !== false) {
      for (const other of state.deployments) {
        if (
          other === deployment ||
          other.environment !== deployment.environment ||
          other.transient_environment ||
          other.production_environment
        )
          continue;
        if (other.statuses.at(-1)?.state !== "success") continue;
        other.statuses.push({
          ...status,
          id: nextId++,
          state: "inactive",
          environment_url: "",
          description: "",
          created_at: now(),
        });
      }
    }
    return json(201, status);
  }

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const fault = takeFault(request.method, url.pathname);
      const latency = (fault?.latencyMs ?? 0) + (options.latencyMs ?? 0);
      if (latency > 0) await Bun.sleep(latency);
      let response: Response | undefined;
      if (!fault || fault.afterApply || (fault.status === undefined && !fault.drop)) {
        response = await route(request, url);
      }
      if (fault && (fault.status !== undefined || fault.drop)) {
        if (fault.drop) {
          calls.push({ method: request.method, path: url.pathname, query: url.search, status: 0 });
          // A body stream that errors makes Bun reset the connection: the client's fetch rejects (ECONNRESET).
          // Erroring with no reason keeps Bun from logging it as an unhandled error.
          return new Response(
            new ReadableStream({
              pull(controller) {
                controller.error();
              },
            }),
          );
        }
        response = json(fault.status!, fault.body ?? { message: `injected ${fault.status}` }, fault.headers);
      }
      calls.push({ method: request.method, path: url.pathname, query: url.search, status: response!.status });
      return response!;
    },
  });

  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    token,
    repository,
    login,
    state,
    calls,
    faults,
    env: { GITHUB_TOKEN: token, GITHUB_REPOSITORY: repository, GITHUB_API_URL: url },
    commentsOn: (issue) => state.comments.filter((c) => c.issue_number === issue),
    addComment,
    setPull(number, pullState, extra = {}) {
      const pull: FakePull = {
        number,
        state: pullState,
        merged: false,
        head: { sha: "0".repeat(40) },
        ...state.pulls.get(number),
        ...extra,
      };
      pull.state = pullState;
      state.pulls.set(number, pull);
      return pull;
    },
    deploymentsIn: (environment) => state.deployments.filter((d) => d.environment === environment),
    deploymentState: (deployment) => deployment.statuses.at(-1)?.state,
    close: () => server.stop(true),
  };
}
