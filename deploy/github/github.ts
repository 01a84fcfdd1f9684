// GitHub from a workflow: the REST calls a preview needs (issue comments, pull requests), the sticky preview
// comment, and the Actions file commands ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, ::add-mask::).
//
// The token lives in one header and nowhere else: errors are built from the method, path and response only
// (octokit's RequestError redacts the same way), so `--json`, logs and PR comments can never carry it.
//
// REST shapes: https://docs.github.com/en/rest/issues/comments and https://docs.github.com/en/rest/pulls/pulls
// (list comments ascending by id, `per_page` max 100, pagination by RFC 8288 `Link: <...>; rel="next"`).

import { appendFile } from "node:fs/promises";

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
const API_VERSION = "2022-11-28";
const USER_AGENT = "flightdeck-deploy";

// ---------------------------------------------------------------------------------------------------------
// Errors

export type GitHubErrorCode =
  | "config_invalid" // GITHUB_REPOSITORY malformed, GITHUB_API_URL not a URL
  | "unauthorized" // 401: token missing, expired or revoked
  | "forbidden" // 403: token lacks `pull-requests: write` (e.g. a fork's read-only token)
  | "not_found" // 404: no such repository / issue / comment, or not visible to this token
  | "unprocessable" // 422: validation failed
  | "rate_limited" // 429, or 403 with x-ratelimit-remaining: 0
  | "server_error" // 5xx
  | "http_error" // any other non-success status
  | "network_error" // no response (refused, reset, dropped)
  | "timeout" // the per-request timeout fired
  | "invalid_response"; // 2xx with a body that is not what the API documents

export class GitHubError extends Error {
  override readonly name = "GitHubError";
  constructor(
    readonly code: GitHubErrorCode,
    message: string,
    readonly context: {
      method?: string;
      /** Path and query, no host, no token. */
      path?: string;
      /** 0 when no response arrived. */
      status?: number;
      /** GitHub's own `message` field. */
      apiMessage?: string;
      /** `x-github-request-id`: quote it to GitHub support. */
      requestId?: string;
    } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return ["rate_limited", "server_error", "network_error", "timeout"].includes(this.code);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.context };
  }
}

export function isGitHubError(value: unknown): value is GitHubError {
  return value instanceof GitHubError || (value instanceof Error && value.name === "GitHubError");
}

// ---------------------------------------------------------------------------------------------------------
// Context from the environment

export interface GitHubContext {
  token: string;
  owner: string;
  repo: string;
  /** `owner/repo`, as in GITHUB_REPOSITORY. */
  repository: string;
  apiUrl: string;
}

// GitHub's own limits: owner names are alphanumerics and single dashes, repository names add `.` and `_`.
const REPOSITORY_PATTERN = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

/**
 * The GitHub context, or `undefined` when GITHUB_TOKEN or GITHUB_REPOSITORY is absent (a laptop run: the
 * preview still deploys, it just does not comment). A present but malformed value is a config error.
 */
export function githubContextFromEnv(env: Record<string, string | undefined>): GitHubContext | undefined {
  const token = env.GITHUB_TOKEN?.trim();
  const repository = env.GITHUB_REPOSITORY?.trim();
  if (!token || !repository) return undefined;
  const match = REPOSITORY_PATTERN.exec(repository);
  if (!match || repository.includes("..")) {
    throw new GitHubError(
      "config_invalid",
      `GITHUB_REPOSITORY must look like "owner/repo" (got ${JSON.stringify(repository.slice(0, 120))}); ` +
        "GitHub Actions sets it, elsewhere export it yourself",
    );
  }
  const apiUrl = (env.GITHUB_API_URL?.trim() || DEFAULT_GITHUB_API_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) {
    throw new GitHubError(
      "config_invalid",
      `GITHUB_API_URL must be an http(s) URL (got ${JSON.stringify(apiUrl.slice(0, 120))})`,
    );
  }
  return { token, owner: match[1]!, repo: match[2]!, repository, apiUrl };
}

// ---------------------------------------------------------------------------------------------------------
// REST client

export interface IssueComment {
  id: number;
  body: string;
  html_url?: string;
  user?: { login: string; type?: string } | null;
  created_at?: string;
  updated_at?: string;
}

export interface PullRequest {
  number: number;
  state: "open" | "closed";
  merged?: boolean;
  head?: { sha: string };
}

/** https://docs.github.com/en/rest/deployments/deployments (the fields we read). */
export interface Deployment {
  id: number;
  ref: string;
  sha?: string;
  environment: string;
  transient_environment?: boolean;
  production_environment?: boolean;
  description?: string | null;
  created_at?: string;
}

export interface CreateDeploymentInput {
  ref: string;
  environment: string;
  description?: string;
  /** A short-lived environment (a preview): GitHub shows an `inactive` one as destroyed. */
  transient_environment?: boolean;
  production_environment?: boolean;
  /** GitHub merges the default branch into `ref` unless this is false. */
  auto_merge?: boolean;
  /** Commit status contexts that must be green first; `[]` skips the check (the preview tests run in parallel). */
  required_contexts?: string[];
}

export type DeploymentState = "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";

/** https://docs.github.com/en/rest/deployments/statuses */
export interface DeploymentStatus {
  id: number;
  state: DeploymentState;
  environment_url?: string;
  log_url?: string;
  description?: string;
  created_at?: string;
}

export interface CreateDeploymentStatusInput {
  state: DeploymentState;
  /** What "View deployment" opens. */
  environment_url?: string;
  log_url?: string;
  /** At most 140 characters (GitHub refuses longer). */
  description?: string;
  auto_inactive?: boolean;
}

export interface GitHubClientOptions {
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** Retries of idempotent calls on 429/5xx/network errors (default 2). */
  retries?: number;
  /** Base of the exponential backoff between retries (default 300 ms; tests pass 1). */
  backoffMs?: number;
  /** Longest Retry-After we are willing to sleep through (default 10 s); longer fails as rate_limited. */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
}

export interface GitHubClient {
  readonly context: GitHubContext;
  /** Every comment on an issue or PR, following `Link: rel="next"` across pages. */
  listIssueComments(issue: number): Promise<IssueComment[]>;
  createIssueComment(issue: number, body: string): Promise<IssueComment>;
  updateIssueComment(commentId: number, body: string): Promise<IssueComment>;
  deleteIssueComment(commentId: number): Promise<void>;
  /** The pull request, or `undefined` when GitHub says 404. */
  getPullRequest(pr: number): Promise<PullRequest | undefined>;
  /** Deployments of one environment, newest first, across pages. */
  listDeployments(environment: string): Promise<Deployment[]>;
  createDeployment(input: CreateDeploymentInput): Promise<Deployment>;
  /** A deployment's statuses, newest first (the first is its current state). */
  listDeploymentStatuses(deploymentId: number): Promise<DeploymentStatus[]>;
  createDeploymentStatus(deploymentId: number, input: CreateDeploymentStatusInput): Promise<DeploymentStatus>;
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

export function createGitHubClient(context: GitHubContext, options: GitHubClientOptions = {}): GitHubClient {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 300;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
  const repoPath = `/repos/${encodeURIComponent(context.owner)}/${encodeURIComponent(context.repo)}`;
  const headers = {
    authorization: `Bearer ${context.token}`,
    accept: "application/vnd.github+json",
    "x-github-api-version": API_VERSION,
    "user-agent": USER_AGENT,
  };

  /** `pathOrUrl` is either an API path or a full `Link` URL (which must stay on the API host). */
  async function request(
    method: Method,
    pathOrUrl: string,
    body?: unknown,
    retry = method !== "POST",
  ): Promise<{ status: number; json: unknown; headers: Headers }> {
    const url = pathOrUrl.startsWith("/") ? context.apiUrl + pathOrUrl : pathOrUrl;
    if (!url.startsWith(`${context.apiUrl}/`)) {
      // A Link header pointing elsewhere would send our token to another host.
      throw new GitHubError("invalid_response", `GitHub returned a pagination link outside ${context.apiUrl}`, {
        method,
      });
    }
    const displayPath = url.slice(context.apiUrl.length);
    for (let attempt = 0; ; attempt++) {
      let error: GitHubError;
      let waitMs = backoffMs * 2 ** attempt;
      try {
        const timeout = AbortSignal.timeout(timeoutMs);
        const response = await fetch(url, {
          method,
          headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
          redirect: "manual",
        });
        const text = await response.text();
        if (response.status >= 200 && response.status < 300) {
          let json: unknown;
          if (text.trim() !== "") {
            try {
              json = JSON.parse(text);
            } catch {
              throw new GitHubError(
                "invalid_response",
                `GitHub ${method} ${displayPath} returned a body that is not JSON`,
                {
                  method,
                  path: displayPath,
                  status: response.status,
                },
              );
            }
          }
          return { status: response.status, json, headers: response.headers };
        }
        error = httpError(method, displayPath, response, text);
        const retryAfter = response.headers.get("retry-after");
        if (error.code === "rate_limited" && retryAfter && /^\d+$/.test(retryAfter.trim())) {
          waitMs = Number(retryAfter.trim()) * 1000;
          if (waitMs > maxRetryAfterMs) throw error;
        }
      } catch (caught) {
        if (isGitHubError(caught)) throw caught;
        if (options.signal?.aborted) throw caught;
        const timedOut = caught instanceof Error && (caught.name === "TimeoutError" || caught.name === "AbortError");
        error = new GitHubError(
          timedOut ? "timeout" : "network_error",
          timedOut
            ? `GitHub ${method} ${displayPath} timed out after ${timeoutMs} ms`
            : `GitHub ${method} ${displayPath} failed: ${caught instanceof Error ? caught.message : String(caught)}`,
          { method, path: displayPath, status: 0 },
        );
      }
      if (!retry || !error.retryable || attempt >= retries) throw error;
      await Bun.sleep(waitMs);
    }
  }

  function asComment(value: unknown, method: Method, path: string): IssueComment {
    const record = value as Partial<IssueComment> | null;
    if (!record || typeof record.id !== "number" || typeof record.body !== "string") {
      throw new GitHubError("invalid_response", `GitHub ${method} ${path} did not return a comment`, { method, path });
    }
    return record as IssueComment;
  }

  function asRecord<T extends { id: number }>(value: unknown, method: Method, path: string, what: string): T {
    const record = value as Partial<T> | null;
    if (!record || typeof record.id !== "number")
      throw new GitHubError("invalid_response", `GitHub ${method} ${path} did not return ${what}`, { method, path });
    return record as T;
  }

  /** Every item of a list endpoint, following `Link: rel="next"`. */
  async function listAll<T>(first: string, convert: (item: unknown) => T): Promise<T[]> {
    const path = first.split("?")[0]!;
    const items: T[] = [];
    let next: string | undefined = first;
    // Bounded so a server that links to itself forever cannot hang a deploy (100 pages of 100).
    for (let page = 0; next && page < 100; page++) {
      const { json, headers: responseHeaders } = await request("GET", next);
      if (!Array.isArray(json))
        throw new GitHubError("invalid_response", `GitHub GET ${path} did not return a list`, { method: "GET", path });
      for (const item of json) items.push(convert(item));
      next = nextLink(responseHeaders.get("link"));
    }
    return items;
  }

  return {
    context,

    listDeployments(environment) {
      const path = `${repoPath}/deployments`;
      return listAll(`${path}?environment=${encodeURIComponent(environment)}&per_page=100`, (item) =>
        asRecord<Deployment>(item, "GET", path, "a deployment"),
      );
    },

    async createDeployment(input) {
      const path = `${repoPath}/deployments`;
      // Not retried: a lost response may mean the deployment exists (the next `up` supersedes it anyway).
      const { status, json } = await request("POST", path, input, false);
      // 202 = GitHub merged the default branch into ref first and made no deployment (auto_merge).
      if (status === 202)
        throw new GitHubError(
          "invalid_response",
          `GitHub POST ${path} made no deployment: ${(json as { message?: string } | null)?.message ?? "202"}`,
          { method: "POST", path, status },
        );
      return asRecord<Deployment>(json, "POST", path, "a deployment");
    },

    listDeploymentStatuses(deploymentId) {
      const path = `${repoPath}/deployments/${deploymentId}/statuses`;
      return listAll(`${path}?per_page=100`, (item) =>
        asRecord<DeploymentStatus>(item, "GET", path, "a deployment status"),
      );
    },

    async createDeploymentStatus(deploymentId, input) {
      const path = `${repoPath}/deployments/${deploymentId}/statuses`;
      // Safe to retry: a second identical status changes nothing a reader sees.
      const { json } = await request("POST", path, input, true);
      return asRecord<DeploymentStatus>(json, "POST", path, "a deployment status");
    },

    listIssueComments(issue) {
      const path = `${repoPath}/issues/${issue}/comments`;
      return listAll(`${path}?per_page=100`, (item) => asComment(item, "GET", path));
    },

    async createIssueComment(issue, body) {
      const path = `${repoPath}/issues/${issue}/comments`;
      // POST is not retried here: a lost response may mean the comment exists. upsertStickyComment retries
      // the whole list-then-write instead, which finds it.
      const { json } = await request("POST", path, { body }, false);
      return asComment(json, "POST", path);
    },

    async updateIssueComment(commentId, body) {
      const path = `${repoPath}/issues/comments/${commentId}`;
      const { json } = await request("PATCH", path, { body });
      return asComment(json, "PATCH", path);
    },

    async deleteIssueComment(commentId) {
      await request("DELETE", `${repoPath}/issues/comments/${commentId}`);
    },

    async getPullRequest(pr) {
      const path = `${repoPath}/pulls/${pr}`;
      try {
        const { json } = await request("GET", path);
        const record = json as Partial<PullRequest> | null;
        if (!record || (record.state !== "open" && record.state !== "closed")) {
          throw new GitHubError("invalid_response", `GitHub GET ${path} did not return a pull request`, {
            method: "GET",
            path,
          });
        }
        return record as PullRequest;
      } catch (error) {
        if (isGitHubError(error) && error.code === "not_found") return undefined;
        throw error;
      }
    },
  };
}

function httpError(method: string, path: string, response: Response, text: string): GitHubError {
  const status = response.status;
  let apiMessage: string | undefined;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") apiMessage = parsed.message;
  } catch {
    apiMessage = text.trim().slice(0, 300) || undefined;
  }
  const requestId = response.headers.get("x-github-request-id") ?? undefined;
  // GitHub signals an exhausted primary rate limit as 403 with x-ratelimit-remaining: 0.
  const exhausted = status === 403 && response.headers.get("x-ratelimit-remaining") === "0";
  const code: GitHubErrorCode =
    status === 429 || exhausted
      ? "rate_limited"
      : status === 401
        ? "unauthorized"
        : status === 403
          ? "forbidden"
          : status === 404
            ? "not_found"
            : status === 422
              ? "unprocessable"
              : status >= 500
                ? "server_error"
                : "http_error";
  const hint =
    code === "unauthorized"
      ? " (check GITHUB_TOKEN)"
      : code === "forbidden"
        ? path.includes("/deployments")
          ? " (the workflow needs `permissions: deployments: write`; a fork's token is read-only)"
          : " (the workflow needs `permissions: pull-requests: write`; a fork's token is read-only)"
        : "";
  const tail = [apiMessage, requestId ? `request id ${requestId}` : undefined].filter(Boolean).join("; ");
  return new GitHubError(
    code,
    `GitHub ${method} ${path} failed with status ${status}${tail ? `: ${tail}` : ""}${hint}`,
    {
      method,
      path,
      status,
      apiMessage,
      requestId,
    },
  );
}

/** The `rel="next"` target of an RFC 8288 Link header, as GitHub sends it. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(",")) {
    const match = /^<([^>]+)>(.*)$/.exec(part.trim());
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(match[2]!);
    // rel may hold several space-separated relation types (RFC 8288 section 3.3).
    if (rel && (rel[1] ?? rel[2] ?? "").split(/\s+/).includes("next")) return match[1];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// The sticky comment

/** The hidden first line that identifies our comment on PR `pr` (and only that PR: `pr-1` is not `pr-12`). */
export function stickyMarker(pr: number): string {
  return `<!-- flightdeck-preview:pr-${pr} -->`;
}

export interface StickyResult {
  action: "created" | "updated" | "unchanged";
  comment: IssueComment;
  /** Duplicates (from an old race) that were removed, ids. */
  removedDuplicates: number[];
}

/**
 * Create or update the one comment on `pr` whose body starts with the marker. The marker must open the body:
 * quoting our comment (`> ...`) or mentioning the marker text mid-comment does not make a comment ours.
 *
 * Retries re-run list-then-write, never a bare POST: a create whose response was lost is found by the next
 * list and updated, so a flaky network cannot produce two comments.
 */
export async function upsertStickyComment(
  client: GitHubClient,
  pr: number,
  content: string,
  options: { attempts?: number; backoffMs?: number } = {},
): Promise<StickyResult> {
  const marker = stickyMarker(pr);
  const body = `${marker}\n${content}`;
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      const ours = (await client.listIssueComments(pr)).filter((c) => c.body.startsWith(marker));
      const [keep, ...duplicates] = ours;
      if (!keep)
        return { action: "created", comment: await client.createIssueComment(pr, body), removedDuplicates: [] };
      const removed: number[] = [];
      for (const dup of duplicates) {
        // Only remove copies written by the same account as the one we keep: never someone else's comment.
        if (dup.user?.login && dup.user.login === keep.user?.login) {
          await client.deleteIssueComment(dup.id);
          removed.push(dup.id);
        }
      }
      if (keep.body === body) return { action: "unchanged", comment: keep, removedDuplicates: removed };
      return { action: "updated", comment: await client.updateIssueComment(keep.id, body), removedDuplicates: removed };
    } catch (error) {
      if (!isGitHubError(error) || !error.retryable || attempt >= attempts) throw error;
      await Bun.sleep((options.backoffMs ?? 300) * attempt);
    }
  }
}

/** Our comment on `pr`, if there is one (used by `preview down` to edit it without creating one). */
export async function findStickyComment(client: GitHubClient, pr: number): Promise<IssueComment | undefined> {
  const marker = stickyMarker(pr);
  return (await client.listIssueComments(pr)).find((c) => c.body.startsWith(marker));
}

// ---------------------------------------------------------------------------------------------------------
// GitHub Actions file commands
// https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions

/** Append `name=value` pairs to $GITHUB_OUTPUT; no-op (returns false) when it is not set. */
export async function writeStepOutputs(
  env: Record<string, string | undefined>,
  outputs: Record<string, string>,
): Promise<boolean> {
  const file = env.GITHUB_OUTPUT;
  if (!file) return false;
  let text = "";
  for (const [name, value] of Object.entries(outputs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`invalid step output name ${JSON.stringify(name)}`);
    if (!/[\r\n]/.test(value)) {
      text += `${name}=${value}\n`;
      continue;
    }
    // Multi-line values use the heredoc form with a delimiter that cannot occur in the value
    // (what @actions/core does), so a value cannot forge another output.
    let delimiter: string;
    do delimiter = `ghadelimiter_${crypto.randomUUID()}`;
    while (value.includes(delimiter));
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  await appendFile(file, text);
  return true;
}

/** Append Markdown to $GITHUB_STEP_SUMMARY; no-op (returns false) when it is not set. */
export async function appendStepSummary(env: Record<string, string | undefined>, markdown: string): Promise<boolean> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  await appendFile(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  return true;
}

/**
 * Under GitHub Actions, ask the runner to mask `FLY_API_TOKEN` (and any extra values, e.g. a generated
 * preview SECRET_KEY) in every later log line. Secrets from `secrets.*` are already masked; this also
 * covers tokens that arrive another way (an env file, a derived value). The runner reads workflow commands
 * from stderr as well as stdout, and stderr keeps `--json` stdout a single JSON object.
 * Returns how many values were masked.
 */
export function maskSecrets(
  env: Record<string, string | undefined>,
  write: (line: string) => void,
  extra: readonly string[] = [],
): number {
  if (env.GITHUB_ACTIONS !== "true") return 0;
  let count = 0;
  for (const value of [env.FLY_API_TOKEN, ...extra]) {
    if (!value) continue;
    // The runner masks line by line; a multi-line value needs each line registered.
    for (const line of value.split(/\r?\n/)) {
      if (line.trim().length < 4) continue;
      write(`::add-mask::${line}\n`);
      count++;
    }
  }
  return count;
}
