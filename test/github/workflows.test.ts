// The workflows are code that only runs on GitHub, so they are checked here: every file parses, validates
// against SchemaStore's workflow schema (test/fixtures/github-workflow.schema.json, draft-07), and every
// `bun deploy/run.ts ...` line names a command, sub-command and flags that the CLI's command table has,
// parsed by the CLI's own parser. Then the properties the project relies on are pinned one by one.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { parseArgs } from "../../deploy/cli/args.ts";
import { COMMANDS, type CommandSpec } from "../../deploy/cli/commands.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DIR = join(ROOT, ".github", "workflows");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));

// Loosely typed views of a workflow: the schema test above guarantees the shapes.
interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  "runs-on"?: string;
  permissions?: Record<string, string>;
  uses?: string;
  needs?: string | string[];
  if?: string;
  steps?: Step[];
  env?: Record<string, string>;
  services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[]; options?: string }>;
  environment?: { name: string; url?: string };
  concurrency?: unknown;
  "timeout-minutes"?: number;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean | string };
  jobs: Record<string, Job>;
}

const workflows = new Map<string, Workflow>(
  files.map((f) => [f, parse(readFileSync(join(DIR, f), "utf8")) as Workflow]),
);
const wf = (name: string) => {
  const value = workflows.get(name);
  if (!value) throw new Error(`.github/workflows/${name} is missing`);
  return value;
};
const allSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);

// ---------------------------------------------------------------------------------------------------------
// CLI invocations inside `run:` scripts

interface Invocation {
  file: string;
  job: string;
  line: string;
  args: string[];
}

/** Shell-ish words of one logical line, keeping `${{ ... }}` expressions and quotes as single words. */
function words(line: string): string[] {
  const out: string[] = [];
  const pattern = /\$\{\{.*?\}\}|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+/g;
  for (const match of line.matchAll(pattern)) out.push(match[0]);
  return out;
}

const SHELL_STOP = /^(?:\d?>>?.*|\|\|?|&&|;|\)|&)$/;

function invocations(): Invocation[] {
  const found: Invocation[] = [];
  for (const [file, w] of workflows) {
    for (const [job, j] of Object.entries(w.jobs)) {
      for (const step of j.steps ?? []) {
        if (!step.run) continue;
        const logical = step.run.replace(/\\\n/g, " ").split("\n");
        for (const line of logical) {
          const tokens = words(line);
          for (let i = 0; i + 1 < tokens.length; i++) {
            if (tokens[i] !== "bun" || tokens[i + 1] !== "deploy/run.ts") continue;
            const args: string[] = [];
            for (const token of tokens.slice(i + 2)) {
              if (SHELL_STOP.test(token)) break;
              args.push(token);
            }
            found.push({ file, job, line: line.trim(), args });
          }
        }
      }
    }
  }
  return found;
}

/** Replace `${{ expr }}` by a value of the flag's type, so the CLI's parser can judge the line. */
function concretise(args: string[], spec: CommandSpec | undefined): string[] {
  return args.map((arg, index) => {
    if (!arg.startsWith("${{")) return arg.replace(/^"(.*)"$/, "$1");
    const flag = args[index - 1]?.startsWith("--") ? spec?.flags[args[index - 1]!.slice(2)] : undefined;
    return flag?.type === "integer" ? "42" : "EXPR";
  });
}

// ---------------------------------------------------------------------------------------------------------

describe("every workflow", () => {
  test("there are the three workflows", () => {
    expect(files.sort()).toEqual(["ci.yml", "deploy-production.yml", "preview.yml"]);
  });

  const schema = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "github-workflow.schema.json"), "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  test.each(files)("%s validates against the GitHub workflow schema", (file) => {
    const ok = validate(workflows.get(file));
    if (!ok) console.error(file, JSON.stringify(validate.errors, null, 2));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test("the schema check is real: a broken workflow fails it", () => {
    const broken = structuredClone(wf("ci.yml")) as unknown as Record<string, unknown>;
    (broken.jobs as Record<string, Record<string, unknown>>).test!["runs-on"] = undefined;
    (broken.jobs as Record<string, Record<string, unknown>>).test!.stepz = [];
    expect(validate(JSON.parse(JSON.stringify(broken)))).toBe(false);
    expect(validate({ on: "push", jobs: { a: { "runs-on": "x", steps: [{ run: "x", uses: "y" }] } } })).toBe(false);
  });

  test.each(files)("%s: never pull_request_target (it would hand secrets to fork code)", (file) => {
    expect(Object.keys(wf(file).on)).not.toContain("pull_request_target");
  });

  test.each(files)("%s: no flyctl and no third-party actions, only actions/* and oven-sh/setup-bun", (file) => {
    const w = wf(file);
    for (const step of allSteps(w)) {
      if (step.uses)
        expect(step.uses).toMatch(/^(actions\/(checkout|cache|upload-artifact)@v\d+|oven-sh\/setup-bun@v\d+)$/);
      // A command line starting with fly/flyctl (an `echo` mentioning `fly tokens create` is fine).
      if (step.run) expect(step.run).not.toMatch(/(^|[;&|]|\$\()\s*(fly|flyctl)\s/m);
    }
    for (const job of Object.values(w.jobs))
      if (job.uses) expect(job.uses).toMatch(/^\.\/\.github\/workflows\/[\w-]+\.yml$/);
  });

  test.each(files)("%s: secrets reach scripts only through env, never pasted into a run line", (file) => {
    for (const step of allSteps(wf(file))) {
      if (step.run) expect(step.run).not.toContain("secrets.");
      if (step.run)
        expect(step.run).not.toMatch(/\$\{\{\s*github\.event\.(pull_request\.(title|body|head\.ref)|head_commit)/);
    }
  });

  test.each(files)("%s: every job has a timeout (or is a reusable-workflow call)", (file) => {
    for (const job of Object.values(wf(file).jobs)) {
      if (!job.uses) expect(job["timeout-minutes"]).toBeGreaterThan(0);
    }
  });
});

describe("CLI lines in workflows", () => {
  const found = invocations();

  test("the workflows call the CLI (deploy, image build, preview up, down and prune)", () => {
    const verbs = found.map((i) => i.args.slice(0, 2).join(" "));
    expect(verbs).toContain("deploy --image");
    expect(verbs).toContain("image build");
    expect(verbs).toContain("preview up");
    expect(verbs).toContain("preview down");
    expect(verbs).toContain("preview prune");
    // The prune line is among those checked below against the command table, with its --closed flag.
    expect(found.find((i) => i.job === "prune")?.args).toEqual(["preview", "prune", "--closed"]);
  });

  test.each(found.map((i) => [`${i.file} ${i.job}: ${i.line}`, i] as const))(
    "%s names a real command and flags",
    (_, inv) => {
      const [command, ...rest] = inv.args;
      expect(command).toBeDefined();
      expect(Object.keys(COMMANDS)).toContain(command!);
      const spec: CommandSpec = COMMANDS[command as keyof typeof COMMANDS];
      let index = 0;
      if (spec.subcommands) {
        expect(spec.subcommands).toContain(rest[0]!);
        index = 1;
      }
      for (let i = index; i < rest.length; i++) {
        const arg = rest[i]!;
        if (!arg.startsWith("--")) {
          if (!spec.positionals) throw new Error(`unexpected word "${arg}" in: ${inv.line}`);
          continue;
        }
        const name = arg.slice(2).split("=")[0]!;
        const flag = spec.flags[name];
        if (!flag)
          throw new Error(
            `--${name} is not a flag of "${command}" (have: ${Object.keys(spec.flags).join(", ")}) in: ${inv.line}`,
          );
        if (flag.type !== "boolean" && !arg.includes("=")) {
          const value = rest[++i];
          expect(value).toBeDefined();
          if (flag.type === "integer" && !value!.startsWith("${{")) expect(value!).toMatch(/^\d+$/);
          if (flag.values && !value!.startsWith("${{")) expect(flag.values).toContain(value!);
        }
      }
      for (const [name, flag] of Object.entries(spec.flags)) {
        // `preview prune --closed` is the one verb of a delegated command without --pr.
        if (flag.required && !(command === "preview" && rest[0] === "prune")) expect(rest).toContain(`--${name}`);
      }
      // And the CLI's own parser accepts the line.
      expect(() => parseArgs(concretise(inv.args, spec))).not.toThrow();
    },
  );

  test("the extractor is not vacuous: a made-up flag is caught", () => {
    const spec: CommandSpec = COMMANDS.preview;
    expect(spec.flags.frobnicate).toBeUndefined();
    expect(() => parseArgs(["preview", "up", "--pr", "1", "--frobnicate"])).toThrow();
    expect(words('bun deploy/run.ts preview up --pr ${{ github.event.number }} > "out file"')).toEqual([
      "bun",
      "deploy/run.ts",
      "preview",
      "up",
      "--pr",
      "${{ github.event.number }}",
      ">",
      '"out file"',
    ]);
  });
});

describe("ci.yml", () => {
  const w = wf("ci.yml");
  const job = w.jobs.test!;
  const runs = (job.steps ?? []).map((s) => s.run ?? "");

  test("runs on pull requests and when called by the deploy workflow; no push trigger (a push to main is tested once, by the deploy's call)", () => {
    expect(Object.keys(w.on).sort()).toEqual(["pull_request", "workflow_call"]);
    const onPushToMain = [...workflows.entries()].filter(([, x]) => {
      const push = x.on.push as { branches?: string[] } | undefined;
      return push !== undefined && (push.branches ?? ["main"]).includes("main");
    });
    // The one workflow a push to main starts runs the tests exactly once: through its call of ci.yml.
    expect(onPushToMain.map(([f]) => f)).toEqual(["deploy-production.yml"]);
    const calls = Object.values(onPushToMain[0]![1].jobs).filter((j) => j.uses === "./.github/workflows/ci.yml");
    expect(calls).toHaveLength(1);
    const own = Object.values(onPushToMain[0]![1].jobs).flatMap((j) => j.steps ?? []);
    expect(own.some((st) => /^bun test\b/m.test(st.run ?? ""))).toBe(false);
  });

  test("sets up Bun, installs from the lockfile, type-checks and tests", () => {
    expect((job.steps ?? []).some((s) => s.uses?.startsWith("oven-sh/setup-bun@"))).toBe(true);
    expect(runs).toContain("bun install --frozen-lockfile");
    expect(runs.some((r) => /bunx tsc --noEmit/.test(r))).toBe(true);
    expect(runs.some((r) => /^bun test\b/.test(r))).toBe(true);
    const order = ["bun install", "tsc", "bun test"].map((word) => runs.findIndex((r) => r.includes(word)));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test("tests run against a PostgreSQL service container, with CI=true making its absence fatal", () => {
    const pg = job.services?.postgres;
    expect(pg?.image).toMatch(/^postgres:\d+/);
    expect(pg?.ports).toContain("5432:5432");
    expect(pg?.options).toContain("--health-cmd");
    expect(job.env?.CI).toBe("true");
    const url = new URL(job.env!.TEST_DATABASE_URL!);
    expect(url.protocol).toBe("postgres:");
    expect(url.port).toBe("5432");
    expect(url.pathname).toBe(`/${pg?.env?.POSTGRES_DB}`);
    expect(url.username).toBe(pg!.env!.POSTGRES_USER!);
  });

  test("read-only token", () => {
    expect(w.permissions).toEqual({ contents: "read" });
  });
});

describe("deploy-production.yml", () => {
  const w = wf("deploy-production.yml");
  const deploy = w.jobs.deploy!;
  const steps = deploy.steps ?? [];

  test("deploys on push to main or master", () => {
    expect((w.on.push as { branches: string[] }).branches.sort()).toEqual(["main", "master"]);
    expect(Object.keys(w.on)).not.toContain("pull_request");
  });

  test("one production deploy at a time, never cancelled", () => {
    expect(w.concurrency).toEqual({ group: "production", "cancel-in-progress": false });
  });

  test("tests first: the deploy job needs the CI workflow", () => {
    expect(w.jobs.test?.uses).toBe("./.github/workflows/ci.yml");
    expect([deploy.needs].flat()).toContain("test");
  });

  test("production environment whose URL is the deployed URL", () => {
    expect(deploy.environment?.name).toBe("production");
    expect(deploy.environment?.url).toBe("${{ steps.deploy.outputs.url }}");
    const deployStep = steps.find((s) => s.id === "deploy");
    expect(deployStep?.run).toContain('bun deploy/run.ts deploy --image "$IMAGE" --json');
    expect(deployStep?.env?.IMAGE).toBe("${{ steps.image.outputs.ref }}");
    const imageIndex = steps.findIndex((s) => s.id === "image");
    expect(imageIndex).toBeGreaterThan(-1);
    expect(imageIndex).toBeLessThan(steps.indexOf(deployStep!));
    expect(steps[imageIndex]!.run).toContain("bun deploy/run.ts image build --push --json");
    expect(deployStep?.run).toContain('"$GITHUB_OUTPUT"');
  });

  test("production's token is its own secret, FLY_API_TOKEN_PRODUCTION, mapped to FLY_API_TOKEN for each CLI step", () => {
    expect(deploy.env?.FLY_API_TOKEN).toBeUndefined();
    // Steps whose script runs the CLI (the guard only quotes `token create` in its message).
    const cli = steps.filter((s) => /^\s*bun deploy\/run\.ts/m.test(s.run ?? ""));
    expect(cli.length).toBe(2);
    for (const s of cli) expect(s.env?.FLY_API_TOKEN).toBe("${{ secrets.FLY_API_TOKEN_PRODUCTION }}");
    // Nothing in the deploy job hands the previews' organization token to a CLI step.
    for (const s of steps) expect(s.env?.FLY_API_TOKEN).not.toBe("${{ secrets.FLY_API_TOKEN }}");
  });

  const guard = steps[0]!;
  const runGuard = async (env: Record<string, string>) => {
    const dir = `${process.env.TMPDIR ?? "/tmp"}/guard-${crypto.randomUUID()}`;
    await Bun.write(`${dir}/summary`, "");
    const proc = Bun.spawn(["bash", "-e", "-c", guard.run!], {
      env: { PATH: process.env.PATH, GITHUB_STEP_SUMMARY: `${dir}/summary`, ...env },
      stdout: "pipe",
    });
    return { code: await proc.exited, out: await new Response(proc.stdout).text() };
  };

  test("the token guard runs first and reads the production secret, not the repository's FLY_API_TOKEN", () => {
    expect(guard.env?.PRODUCTION_TOKEN).toBe("${{ secrets.FLY_API_TOKEN_PRODUCTION }}");
    expect(guard.env?.PREVIEW_TOKEN).toBe("${{ secrets.FLY_API_TOKEN }}");
  });

  test("the token guard fails clearly when the production secret is empty, or is the organization token", async () => {
    // Only the repository's organization token is set: GitHub would have handed it to the old job.
    const missing = await runGuard({ PRODUCTION_TOKEN: "", PREVIEW_TOKEN: "org" });
    expect(missing.code).toBe(2);
    expect(missing.out).toContain("::error title=FLY_API_TOKEN_PRODUCTION missing::");
    expect(missing.out).toContain("gh secret set FLY_API_TOKEN_PRODUCTION --env production");
    const same = await runGuard({ PRODUCTION_TOKEN: "org", PREVIEW_TOKEN: "org" });
    expect(same.code).toBe(2);
    expect(same.out).toContain("same token as the repository's FLY_API_TOKEN");
    expect((await runGuard({ PRODUCTION_TOKEN: "app", PREVIEW_TOKEN: "org" })).code).toBe(0);
  });

  test("a manual run deploys main or master only: other refs skip tests and deploy, and a job fails saying why", async () => {
    const onMain = "github.ref == 'refs/heads/main' || github.ref == 'refs/heads/master'";
    expect(w.jobs.test!.if).toBe(onMain);
    expect(deploy.if).toBe(onMain);
    const refuse = w.jobs["wrong-branch"]!;
    expect(refuse.if).toBe("github.ref != 'refs/heads/main' && github.ref != 'refs/heads/master'");
    expect(refuse.env?.REF).toBe("${{ github.ref }}");
    const dir = `${process.env.TMPDIR ?? "/tmp"}/ref-${crypto.randomUUID()}`;
    await Bun.write(`${dir}/summary`, "");
    const proc = Bun.spawn(["bash", "-e", "-c", refuse.steps![0]!.run!], {
      env: { PATH: process.env.PATH, REF: "refs/heads/feature", GITHUB_STEP_SUMMARY: `${dir}/summary` },
      stdout: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const out = await new Response(proc.stdout).text();
    expect(out).toContain("::error title=Not deployed::");
    expect(out).toContain("refs/heads/feature");
    expect(await Bun.file(`${dir}/summary`).text()).toContain("main or master only");
  });

  test("smoke check of /health after the deploy fails the job unless it answers 200, with retries", () => {
    const deployIndex = steps.findIndex((s) => s.id === "deploy");
    const smokeIndex = steps.findIndex((s) => s.run?.includes("/health"));
    expect(smokeIndex).toBeGreaterThan(deployIndex);
    const smoke = steps[smokeIndex]!;
    expect(smoke.env?.URL).toBe("${{ steps.deploy.outputs.url }}");
    expect(smoke.run).toContain('"$URL/health"');
    expect(smoke.run).toContain('[ "$status" = "200" ]');
    expect(smoke.run).toMatch(/for attempt in \$\(seq 1 \d+\)/);
    expect(smoke.run!.trimEnd().endsWith("exit 1")).toBe(true);
    expect(smoke.if).toBeUndefined(); // runs whenever the deploy step succeeded
  });
});

describe("preview.yml", () => {
  const w = wf("preview.yml");

  test("runs for pull request opened, reopened, synchronize and closed, on a daily schedule and by hand", () => {
    expect((w.on.pull_request as { types: string[] }).types.sort()).toEqual([
      "closed",
      "opened",
      "reopened",
      "synchronize",
    ]);
    expect(Object.keys(w.on).sort()).toEqual(["pull_request", "schedule", "workflow_dispatch"]);
    const [cron] = w.on.schedule as { cron: string }[];
    expect(cron?.cron.split(" ")).toHaveLength(5);
  });

  test("`up` and `down` run only for pull_request events; `prune` only on schedule or by hand", () => {
    expect(w.jobs.up!.if).toContain("github.event_name == 'pull_request'");
    expect(w.jobs.down!.if).toContain("github.event_name == 'pull_request'");
    const prune = w.jobs.prune!;
    expect(prune.if).toBe("github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'");
    expect(prune.steps!.some((s) => s.run === "bun deploy/run.ts preview prune --closed")).toBe(true);
    expect(prune.env?.FLY_API_TOKEN).toBe("${{ secrets.FLY_API_TOKEN }}");
    expect(prune.env?.GITHUB_TOKEN).toBe("${{ github.token }}");
    // It reads pull requests, edits their sticky comments and retires their GitHub deployments; nothing else.
    expect(prune.permissions).toEqual({ contents: "read", "pull-requests": "write", deployments: "write" });
  });

  test("prune runs have their own concurrency queue and are never cancelled", () => {
    expect(w.concurrency?.group).toContain("|| 'prune'");
    expect(String(w.concurrency?.["cancel-in-progress"])).toContain("github.event_name == 'pull_request'");
  });

  test("permissions: pull-requests write (the comment), deployments write (View deployment), contents read, nothing else", () => {
    expect(w.permissions).toEqual({ contents: "read", "pull-requests": "write", deployments: "write" });
  });

  test("one concurrency queue per PR, cancelling in-progress `up` but never `down`", () => {
    expect(w.concurrency?.group).toContain("github.event.pull_request.number");
    const cancel = String(w.concurrency?.["cancel-in-progress"]);
    expect(cancel).toContain("github.event.action != 'closed'");
  });

  test("`up` on open/sync runs preview up with the PR number; `down` on close runs preview down", () => {
    const up = w.jobs.up!;
    const down = w.jobs.down!;
    expect(up.if).toContain("github.event.action != 'closed'");
    expect(down.if).toContain("github.event.action == 'closed'");
    expect(up.steps!.some((s) => s.run === "bun deploy/run.ts preview up --pr ${{ github.event.number }}")).toBe(true);
    expect(down.steps!.some((s) => s.run === "bun deploy/run.ts preview down --pr ${{ github.event.number }}")).toBe(
      true,
    );
    for (const job of [up, down]) {
      expect(job.env?.FLY_API_TOKEN).toBe("${{ secrets.FLY_API_TOKEN }}");
      expect(job.env?.GITHUB_TOKEN).toBe("${{ github.token }}");
    }
  });

  test("fork PRs (no secrets) get a notice and a green skip: every later step is gated, the gate never fails", () => {
    for (const name of ["up", "down", "prune"]) {
      const steps = w.jobs[name]!.steps!;
      const gate = steps[0]!;
      expect(gate.id).toBe("gate");
      expect(gate.run).toMatch(/-[nz] "\$FLY_API_TOKEN"/);
      expect(gate.run).toContain("::notice");
      expect(gate.run).not.toMatch(/exit [1-9]/);
      for (const step of steps.slice(1)) expect(step.if).toBe("steps.gate.outputs.enabled == 'true'");
    }
    expect(w.jobs.up!.steps![0]!.run).toContain("fork");
  });

  test("the prune gate really skips without a token (green, with a notice) and enables with one", async () => {
    const gate = w.jobs.prune!.steps![0]!;
    for (const [token, expected] of [
      ["", "enabled=false"],
      ["tok", "enabled=true"],
    ] as const) {
      const dir = `${process.env.TMPDIR ?? "/tmp"}/gate-${crypto.randomUUID()}`;
      await Bun.write(`${dir}/out`, "");
      const proc = Bun.spawn(["bash", "-e", "-c", gate.run!], {
        env: { PATH: process.env.PATH, FLY_API_TOKEN: token, GITHUB_OUTPUT: `${dir}/out` },
        stdout: "pipe",
      });
      expect(await proc.exited).toBe(0);
      expect(await Bun.file(`${dir}/out`).text()).toBe(`${expected}\n`);
      if (!token) expect(await new Response(proc.stdout).text()).toContain("::notice title=Preview prune skipped::");
    }
  });

  test("the gate script really skips: run it with and without a token", async () => {
    const gate = w.jobs.up!.steps![0]!;
    for (const [token, fromFork, expected] of [
      ["", "true", "enabled=false"],
      ["tok", "false", "enabled=true"],
    ] as const) {
      const dir = `${process.env.TMPDIR ?? "/tmp"}/gate-${crypto.randomUUID()}`;
      await Bun.write(`${dir}/out`, "");
      await Bun.write(`${dir}/summary`, "");
      const proc = Bun.spawn(["bash", "-e", "-c", gate.run!], {
        env: {
          PATH: process.env.PATH,
          FLY_API_TOKEN: token,
          FROM_FORK: fromFork,
          GITHUB_OUTPUT: `${dir}/out`,
          GITHUB_STEP_SUMMARY: `${dir}/summary`,
        },
        stdout: "pipe",
      });
      expect(await proc.exited).toBe(0);
      expect(await Bun.file(`${dir}/out`).text()).toBe(`${expected}\n`);
      if (!token) expect(await new Response(proc.stdout).text()).toContain("::notice title=Preview skipped::");
    }
  });
});

describe("preview.yml: fork and Dependabot pull requests skip with the true reason", () => {
  const w = wf("preview.yml");

  async function gate(job: string, env: Record<string, string>) {
    const dir = `${process.env.TMPDIR ?? "/tmp"}/gate-${crypto.randomUUID()}`;
    await Bun.write(`${dir}/out`, "");
    await Bun.write(`${dir}/summary`, "");
    const proc = Bun.spawn(["bash", "-e", "-c", w.jobs[job]!.steps![0]!.run!], {
      env: { PATH: process.env.PATH, GITHUB_OUTPUT: `${dir}/out`, GITHUB_STEP_SUMMARY: `${dir}/summary`, ...env },
      stdout: "pipe",
    });
    return {
      code: await proc.exited,
      output: await Bun.file(`${dir}/out`).text(),
      summary: await Bun.file(`${dir}/summary`).text(),
    };
  }

  test("both gates judge fork by the head repository and Dependabot by the run's actor", () => {
    for (const job of ["up", "down"]) {
      const env = w.jobs[job]!.steps![0]!.env;
      expect(env?.FROM_FORK).toBe("${{ github.event.pull_request.head.repo.full_name != github.repository }}");
      expect(env?.FROM_DEPENDABOT).toBe("${{ github.actor == 'dependabot[bot]' }}");
    }
  });

  for (const job of ["up", "down"]) {
    test(`${job}: Dependabot is skipped and named, even with a Dependabot secret called FLY_API_TOKEN`, async () => {
      for (const token of ["", "dependabot-secret"]) {
        const r = await gate(job, { FLY_API_TOKEN: token, FROM_FORK: "false", FROM_DEPENDABOT: "true" });
        expect(r.code).toBe(0);
        expect(r.output).toBe("enabled=false\n");
        expect(r.summary).toContain("started by Dependabot");
      }
    });

    test(`${job}: a fork is skipped and named, even if secrets reach forks; a same-repo PR with a token runs`, async () => {
      const fork = await gate(job, { FLY_API_TOKEN: "tok", FROM_FORK: "true", FROM_DEPENDABOT: "false" });
      expect(fork.output).toBe("enabled=false\n");
      expect(fork.summary).toContain("fork");
      const unset = await gate(job, { FLY_API_TOKEN: "", FROM_FORK: "false", FROM_DEPENDABOT: "false" });
      expect(unset.output).toBe("enabled=false\n");
      expect(unset.summary).toMatch(/FLY_API_TOKEN secret .*is not set/);
      const ok = await gate(job, { FLY_API_TOKEN: "tok", FROM_FORK: "false", FROM_DEPENDABOT: "false" });
      expect(ok.output).toBe("enabled=true\n");
      expect(ok.summary).toBe("");
    });
  }
});
