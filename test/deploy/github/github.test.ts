import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  appendStepSummary,
  createGitHubClient,
  findStickyComment,
  githubContextFromEnv,
  GitHubError,
  maskSecrets,
  nextLink,
  stickyMarker,
  upsertStickyComment,
  writeStepOutputs,
  type GitHubClient,
} from "../../../deploy/github/github.ts";
import { renderPreviewComment, renderStepSummary, runUrlFromEnv } from "../../../deploy/preview/comment.ts";
import { startFakeGitHub, type FakeGitHub } from "../../fakes/github.ts";

let gh: FakeGitHub;
let client: GitHubClient;

beforeEach(() => {
  gh = startFakeGitHub();
  client = createGitHubClient(githubContextFromEnv(gh.env)!, { backoffMs: 1 });
});
afterEach(() => gh.close());

describe("githubContextFromEnv", () => {
  test("absent token or repository means no GitHub integration", () => {
    expect(githubContextFromEnv({})).toBeUndefined();
    expect(githubContextFromEnv({ GITHUB_TOKEN: "t" })).toBeUndefined();
    expect(githubContextFromEnv({ GITHUB_REPOSITORY: "a/b" })).toBeUndefined();
  });

  test("defaults the API URL and splits owner/repo", () => {
    const ctx = githubContextFromEnv({ GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "acme/flight.deck_1" })!;
    expect(ctx).toMatchObject({ owner: "acme", repo: "flight.deck_1", apiUrl: "https://api.github.com" });
    const ghes = githubContextFromEnv({
      GITHUB_TOKEN: "t",
      GITHUB_REPOSITORY: "a/b",
      GITHUB_API_URL: "https://ghe.example/api/v3/",
    })!;
    expect(ghes.apiUrl).toBe("https://ghe.example/api/v3");
  });

  test.each(["acme", "acme/", "/x", "a/b/c", "acme/re po", "acme/../x", "ac me/x", "acme/x?y"])(
    "rejects GITHUB_REPOSITORY %p with a typed error that does not echo the token",
    (repository) => {
      try {
        githubContextFromEnv({ GITHUB_TOKEN: "ghs_SECRETVALUE", GITHUB_REPOSITORY: repository });
        throw new Error("expected a GitHubError");
      } catch (error) {
        expect(error).toBeInstanceOf(GitHubError);
        expect((error as GitHubError).code).toBe("config_invalid");
        expect((error as GitHubError).message).not.toContain("ghs_SECRETVALUE");
      }
    },
  );
});

describe("client", () => {
  test("lists comments across pages by following Link rel=next", async () => {
    for (let i = 0; i < 250; i++) gh.addComment(7, `comment ${i}`, { login: "someone" });
    gh.addComment(8, "other PR");
    const comments = await client.listIssueComments(7);
    expect(comments).toHaveLength(250);
    expect(comments.map((c) => c.body)).toEqual(Array.from({ length: 250 }, (_, i) => `comment ${i}`));
    const pages = gh.calls.filter((c) => c.method === "GET" && c.path.endsWith("/issues/7/comments"));
    expect(pages).toHaveLength(3); // 100 + 100 + 50
  });

  test("a bad token is a typed unauthorized error without the token in it", async () => {
    const bad = createGitHubClient({ ...githubContextFromEnv(gh.env)!, token: "ghs_WRONGTOKEN" }, { backoffMs: 1 });
    const error = await bad.listIssueComments(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({ code: "unauthorized", context: { status: 401, method: "GET" } });
    expect(JSON.stringify(error)).not.toContain("ghs_WRONGTOKEN");
    expect(String((error as Error).message)).not.toContain("ghs_WRONGTOKEN");
    expect((error as Error).message).toContain("GITHUB_TOKEN");
  });

  test("retries idempotent reads on 5xx and 429 with Retry-After", async () => {
    gh.addComment(3, "hello");
    gh.faults.push({ method: "GET", path: "/comments", status: 502, times: 1 });
    gh.faults.push({ method: "GET", path: "/comments", status: 429, headers: { "retry-after": "0" }, times: 1 });
    const comments = await client.listIssueComments(3);
    expect(comments.map((c) => c.body)).toEqual(["hello"]);
    expect(gh.calls.map((c) => c.status)).toEqual([502, 429, 200]);
  });

  test("gives up after the retry budget with the last error", async () => {
    gh.faults.push({ method: "GET", status: 503, times: 10 });
    const error = await client.listIssueComments(3).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "server_error", context: { status: 503 } });
    expect(gh.calls).toHaveLength(3);
  });

  test("a dropped connection is a network error, retried for reads", async () => {
    gh.addComment(3, "hello");
    gh.faults.push({ method: "GET", drop: true });
    expect((await client.listIssueComments(3)).map((c) => c.body)).toEqual(["hello"]);
    gh.faults.push({ method: "GET", drop: true, times: 5 });
    const error = await client.listIssueComments(3).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "network_error", context: { status: 0 } });
    // 1 earlier + 3 attempts (Bun may itself retry once on a reset keep-alive socket)
    expect(gh.calls.filter((c) => c.status === 0).length).toBeGreaterThanOrEqual(4);
  });

  test("a read-only (fork) token gets a forbidden error naming the permission", async () => {
    const ro = startFakeGitHub({ readOnly: true });
    try {
      const c = createGitHubClient(githubContextFromEnv(ro.env)!, { backoffMs: 1 });
      const error = await c.createIssueComment(1, "x").catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "forbidden" });
      expect((error as Error).message).toContain("pull-requests: write");
    } finally {
      ro.close();
    }
  });

  test("pull requests: state, and undefined for a missing one", async () => {
    gh.setPull(5, "closed", { merged: true });
    expect(await client.getPullRequest(5)).toMatchObject({ number: 5, state: "closed", merged: true });
    expect(await client.getPullRequest(6)).toBeUndefined();
  });

  test("a pagination link to another host is refused, so the token never leaves the API host", async () => {
    const evil = Bun.serve({
      port: 0,
      fetch: () =>
        new Response("[]", {
          headers: { link: '<https://evil.example/steal?page=2>; rel="next"', "content-type": "application/json" },
        }),
    });
    try {
      const c = createGitHubClient({
        token: "t",
        owner: "a",
        repo: "b",
        repository: "a/b",
        apiUrl: `http://127.0.0.1:${evil.port}`,
      });
      await expect(c.listIssueComments(1)).rejects.toMatchObject({ code: "invalid_response" });
    } finally {
      evil.stop(true);
    }
  });
});

describe("deployments (client against the fake, and the fake's GitHub rules)", () => {
  const sha = "c".repeat(40);
  const base = {
    ref: sha,
    environment: "pr-5",
    transient_environment: true,
    production_environment: false,
    auto_merge: false,
    required_contexts: [],
  };

  test("create, statuses newest first, list by environment across pages", async () => {
    const d = await client.createDeployment(base);
    expect(d).toMatchObject({ ref: sha, environment: "pr-5", transient_environment: true });
    await client.createDeploymentStatus(d.id, { state: "in_progress" });
    await client.createDeploymentStatus(d.id, { state: "success", environment_url: "https://x-pr-5.fly.dev" });
    expect((await client.listDeploymentStatuses(d.id)).map((st) => st.state)).toEqual(["success", "in_progress"]);
    for (let i = 0; i < 120; i++) await client.createDeployment({ ...base, environment: "pr-6" });
    expect(await client.listDeployments("pr-6")).toHaveLength(120);
    expect((await client.listDeployments("pr-5")).map((x) => x.id)).toEqual([d.id]);
  });

  test("GitHub's refusals: pending checks without required_contexts (409), unknown ref, bad state, long description (422)", async () => {
    gh.state.pendingChecks.add(sha);
    const failure = async (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: GitHubError) => error,
      );
    const { required_contexts: _skip, ...withoutContexts } = base;
    expect((await failure(client.createDeployment(withoutContexts)))?.context.status).toBe(409);
    expect((await failure(client.createDeployment({ ...base, ref: "no-such-branch" })))?.context.status).toBe(422);
    const d = await client.createDeployment({ ...base, ref: "main" });
    expect((await failure(client.createDeploymentStatus(d.id, { state: "done" as "success" })))?.context.status).toBe(
      422,
    );
    expect(
      (await failure(client.createDeploymentStatus(d.id, { state: "success", description: "x".repeat(141) })))?.context
        .status,
    ).toBe(422);
    const ro = startFakeGitHub({ readOnly: true });
    try {
      const error = await failure(
        createGitHubClient(githubContextFromEnv(ro.env)!, { backoffMs: 1 }).createDeployment(base),
      );
      expect(error?.message).toContain("deployments: write");
    } finally {
      ro.close();
    }
  });

  test("auto_inactive retires earlier successful non-transient deployments only", async () => {
    const lasting = { ...base, transient_environment: false };
    const a = await client.createDeployment(lasting);
    await client.createDeploymentStatus(a.id, { state: "success" });
    const t = await client.createDeployment(base);
    await client.createDeploymentStatus(t.id, { state: "success" });
    const b = await client.createDeployment(lasting);
    await client.createDeploymentStatus(b.id, { state: "success" });
    expect(gh.deploymentsIn("pr-5").map((x) => gh.deploymentState(x))).toEqual(["inactive", "success", "success"]);
  });
});

describe("nextLink", () => {
  test("parses GitHub's Link header", () => {
    const header =
      '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=5>; rel="last"';
    expect(nextLink(header)).toBe("https://api.github.com/x?page=3");
    expect(nextLink('<https://api.github.com/x?page=5>; rel="last"')).toBeUndefined();
    expect(nextLink('<https://a/x?page=2>; rel="next last"')).toBe("https://a/x?page=2");
    expect(nextLink(null)).toBeUndefined();
    expect(nextLink("garbage")).toBeUndefined();
  });
});

describe("sticky comment", () => {
  test("creates once, then edits the same comment; never duplicates", async () => {
    const first = await upsertStickyComment(client, 42, "v1");
    expect(first.action).toBe("created");
    const second = await upsertStickyComment(client, 42, "v2");
    expect(second.action).toBe("updated");
    expect(second.comment.id).toBe(first.comment.id);
    const third = await upsertStickyComment(client, 42, "v2");
    expect(third.action).toBe("unchanged");
    const ours = gh.commentsOn(42);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toBe(`${stickyMarker(42)}\nv2`);
    // unchanged made no write
    expect(gh.calls.filter((c) => c.method !== "GET")).toHaveLength(2);
  });

  test("finds its comment beyond the first page of a busy PR", async () => {
    gh.addComment(9, `${stickyMarker(9)}\nold`);
    for (let i = 0; i < 230; i++) gh.addComment(9, `chatter ${i}`, { login: "human" });
    const result = await upsertStickyComment(client, 9, "new");
    expect(result.action).toBe("updated");
    expect(gh.commentsOn(9).filter((c) => c.body.startsWith(stickyMarker(9)))).toHaveLength(1);

    // And when ours is on the last page only
    gh.state.comments.length = 0;
    for (let i = 0; i < 230; i++) gh.addComment(9, `chatter ${i}`, { login: "human" });
    gh.addComment(9, `${stickyMarker(9)}\nold`);
    expect((await upsertStickyComment(client, 9, "new")).action).toBe("updated");
    expect(gh.commentsOn(9)).toHaveLength(231);
  });

  test("the marker is per PR: pr-1 is not pr-12, and a quote of the marker is not ours", async () => {
    gh.addComment(1, `${stickyMarker(12)}\nsomeone pasted PR 12's comment`);
    gh.addComment(1, `> ${stickyMarker(1)}\n> quoted`, { login: "human" });
    gh.addComment(1, `look: ${stickyMarker(1)}`, { login: "human" });
    const result = await upsertStickyComment(client, 1, "mine");
    expect(result.action).toBe("created");
    expect(gh.commentsOn(1)).toHaveLength(4);
    expect(
      gh
        .commentsOn(1)
        .slice(0, 3)
        .map((c) => c.body),
    ).not.toContain(`${stickyMarker(1)}\nmine`);
  });

  test("a create whose response was lost is found on retry, not created twice", async () => {
    gh.faults.push({ method: "POST", status: 502, afterApply: true });
    const result = await upsertStickyComment(client, 5, "body", { backoffMs: 1 });
    expect(result.action).toBe("unchanged"); // the lost create was found on the re-list, already right
    expect(gh.commentsOn(5)).toHaveLength(1);
  });

  test("a dropped connection on create does not duplicate either", async () => {
    gh.faults.push({ method: "POST", drop: true, afterApply: true });
    await upsertStickyComment(client, 5, "body", { backoffMs: 1 });
    expect(gh.commentsOn(5)).toHaveLength(1);
  });

  test("duplicates left by an old race are folded into one (only our own account's)", async () => {
    gh.addComment(4, `${stickyMarker(4)}\na`);
    gh.addComment(4, `${stickyMarker(4)}\nb`);
    gh.addComment(4, `${stickyMarker(4)}\nhuman copy`, { login: "human" });
    const result = await upsertStickyComment(client, 4, "c");
    expect(result.removedDuplicates).toHaveLength(1);
    const ours = gh.commentsOn(4).filter((c) => c.user.login === gh.login);
    expect(ours.map((c) => c.body)).toEqual([`${stickyMarker(4)}\nc`]);
    expect(gh.commentsOn(4).some((c) => c.user.login === "human")).toBe(true);
  });

  test("non-retryable errors surface immediately", async () => {
    gh.faults.push({ method: "GET", status: 404, body: { message: "Not Found" } });
    await expect(upsertStickyComment(client, 5, "x")).rejects.toMatchObject({ code: "not_found" });
    expect(gh.calls).toHaveLength(1);
  });

  test("findStickyComment returns ours or nothing", async () => {
    expect(await findStickyComment(client, 3)).toBeUndefined();
    await upsertStickyComment(client, 3, "x");
    expect((await findStickyComment(client, 3))?.body).toContain("x");
  });
});

describe("Actions file commands", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "gh-files-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("writes outputs, multi-line values in heredoc form that cannot forge another output", async () => {
    const file = join(dir, "output");
    await writeStepOutputs({ GITHUB_OUTPUT: file }, { url: "https://x-pr-1.fly.dev", app: "x-pr-1" });
    await writeStepOutputs({ GITHUB_OUTPUT: file }, { note: "line1\nurl=https://evil" });
    const text = await readFile(file, "utf8");
    expect(text.startsWith("url=https://x-pr-1.fly.dev\napp=x-pr-1\nnote<<ghadelimiter_")).toBe(true);
    const delimiter = /note<<(\S+)\n/.exec(text)![1]!;
    expect(text.endsWith(`line1\nurl=https://evil\n${delimiter}\n`)).toBe(true);
  });

  test("no file configured: nothing written", async () => {
    expect(await writeStepOutputs({}, { url: "x" })).toBe(false);
    expect(await appendStepSummary({}, "x")).toBe(false);
  });

  test("appends the step summary", async () => {
    const file = join(dir, "summary");
    await appendStepSummary({ GITHUB_STEP_SUMMARY: file }, "# one");
    await appendStepSummary({ GITHUB_STEP_SUMMARY: file }, "# two\n");
    expect(await readFile(file, "utf8")).toBe("# one\n# two\n");
  });

  test("masks FLY_API_TOKEN only under GitHub Actions", () => {
    const lines: string[] = [];
    expect(maskSecrets({ FLY_API_TOKEN: "FlyV1 fm2_abc" }, (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([]);
    expect(
      maskSecrets({ GITHUB_ACTIONS: "true", FLY_API_TOKEN: "FlyV1 fm2_abc" }, (l) => lines.push(l), ["s3cr3t-key"]),
    ).toBe(2);
    expect(lines).toEqual(["::add-mask::FlyV1 fm2_abc\n", "::add-mask::s3cr3t-key\n"]);
  });
});

describe("preview comment text", () => {
  test("ready comment carries URL, app, commit, image and status", () => {
    const body = renderPreviewComment({
      pr: 42,
      app: "flightdeck-pr-42",
      url: "https://flightdeck-pr-42.fly.dev",
      status: "ready",
      sha: "0123456789abcdef0123",
      image: "registry.fly.io/flightdeck@sha256:abc",
    });
    expect(body).toContain("https://flightdeck-pr-42.fly.dev");
    expect(body).toContain("`flightdeck-pr-42`");
    expect(body).toContain("`0123456789ab`");
    expect(body).toContain("registry.fly.io/flightdeck@sha256:abc");
    expect(body).toContain("| Status | ready |");
  });

  test("removed comment says so and no longer links the dead URL", () => {
    const body = renderPreviewComment({ pr: 1, app: "a-pr-1", url: "https://a-pr-1.fly.dev", status: "removed" });
    expect(body).toContain("Preview removed");
    expect(body).not.toContain("https://a-pr-1.fly.dev");
  });

  test("hostile values cannot break out of the table or inject HTML", () => {
    const body = renderPreviewComment({
      pr: 1,
      app: "a-pr-1",
      url: "https://a-pr-1.fly.dev",
      status: "failed",
      image: "x|y`z\n| Status | ready |",
      error: "<img src=x onerror=alert(1)>\n### heading",
    });
    expect(body).not.toContain("<img");
    expect(body.split("\n").filter((l) => l.startsWith("| Status"))).toEqual(["| Status | failed |"]);
  });

  test("summary and run URL", () => {
    expect(renderStepSummary({ pr: 3, app: "a-pr-3", url: "https://a-pr-3.fly.dev", status: "ready" })).toContain(
      "Preview for #3: https://a-pr-3.fly.dev",
    );
    expect(
      runUrlFromEnv({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "a/b", GITHUB_RUN_ID: "9" }),
    ).toBe("https://github.com/a/b/actions/runs/9");
    expect(
      runUrlFromEnv({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "a/b)", GITHUB_RUN_ID: "9" }),
    ).toBeUndefined();
  });
});
