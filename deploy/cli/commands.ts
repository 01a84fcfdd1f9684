// The CLI's command table, in one structure: the parser, the usage text and the workflow tests
// (which check every `bun deploy/run.ts ...` line in .github/workflows names a real command and
// real flags) all read it, so they cannot drift apart. The contract itself is DESIGN.md's.

export interface FlagSpec {
  readonly type: "string" | "boolean" | "integer";
  readonly description: string;
  readonly values?: readonly string[];
  readonly required?: boolean;
  readonly placeholder?: string;
  /** May be given more than once; the parsed value is then the list of values (string[]). */
  readonly repeatable?: boolean;
}

export interface CommandSpec {
  readonly summary: string;
  /** First positional word, when the command has sub-verbs (`secrets set`, `preview up`). */
  readonly subcommands?: readonly string[];
  /** Whether extra positional words are accepted (`secrets set K=V ...`). */
  readonly positionals?: boolean;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Parsed by another module's own CLI (image, preview); the table still lists its flags. */
  readonly delegated?: boolean;
  /** Takes another program's argv after a bare `--` (exec). */
  readonly passthrough?: boolean;
  /** The operands shown in the usage line after the flags (`HOST`, `-- CMD ARGS...`). */
  readonly operands?: string;
}

const config: FlagSpec = { type: "string", description: "deploy config file", placeholder: "fly.toml" };
/** flyctl's `-a`: deploy a template whose `app` is a placeholder, or one fly.toml as several apps. */
const app: FlagSpec = { type: "string", description: "app name; overrides fly.toml's app", placeholder: "NAME" };
const json: FlagSpec = { type: "boolean", description: "print one JSON object on stdout" };
const image: FlagSpec = { type: "string", description: "image reference to deploy", placeholder: "REF" };
const strict: FlagSpec = {
  type: "boolean",
  description: "treat fly.toml warnings (unknown keys, keys Flightdeck does not use) as errors",
};
const region: FlagSpec = {
  type: "string",
  description: "region for new machines when fly.toml has no primary_region",
  placeholder: "REGION",
};
/** Regions Fly added after the shipped list (config/regions.ts); FLIGHTDECK_ALLOW_REGIONS=a,b does the same. */
const allowRegion: FlagSpec = {
  type: "string",
  description: "accept this region code although the shipped region list lacks it (repeatable)",
  placeholder: "CODE",
  repeatable: true,
};
const message: FlagSpec = {
  type: "string",
  description: "why: recorded with the release (see releases)",
  placeholder: "TEXT",
};
/** Mutating commands hold the fleet lock (deploy/fleet/lock.ts); this bounds the wait for another run's. */
const waitForLock: FlagSpec = {
  type: "string",
  description: "how long to wait for another deploy's fleet lock (default 2m), then exit 2",
  placeholder: "DURATION",
};

export const STRATEGIES = ["rolling", "immediate", "bluegreen", "canary"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export const COMMANDS = {
  deploy: {
    summary: "plan and apply the fleet in fly.toml",
    flags: {
      config,
      app,
      image,
      strategy: { type: "string", description: "rollout strategy", values: STRATEGIES },
      region,
      "allow-region": allowRegion,
      strict,
      message,
      "wait-for-lock": waitForLock,
      "skip-standby-check": {
        type: "boolean",
        description: "do not start each updated stopped/suspended machine once to test its new config",
      },
      json,
    },
  },
  plan: {
    summary: "show what deploy would do; changes nothing",
    flags: { config, app, image, region, "allow-region": allowRegion, strict, json },
  },
  status: { summary: "show the app and its machines", flags: { config, app, json } },
  releases: {
    summary: "the release history, newest first: version, outcome, when, who, image, message",
    flags: {
      config,
      app,
      limit: { type: "integer", description: "show at most N releases (default: all kept, 10)", placeholder: "N" },
      json: { type: "boolean", description: "print a JSON array of releases on stdout" },
    },
  },
  scale: {
    summary: "set the number of machines of a process group (the one serving [http_service]: 1..5; others: 0 or more)",
    flags: {
      count: { type: "integer", description: "machine count", required: true, placeholder: "N" },
      group: {
        type: "string",
        description: "process group from fly.toml [processes]; default: the default group",
        placeholder: "G",
      },
      config,
      app,
      "allow-region": allowRegion,
      "wait-for-lock": waitForLock,
      json,
    },
  },
  rollback: {
    summary: "redeploy the image of the last good release before the current one",
    flags: {
      config,
      app,
      to: { type: "string", description: "image to roll back to", placeholder: "IMAGE" },
      "allow-region": allowRegion,
      message,
      "wait-for-lock": waitForLock,
      json,
    },
  },
  secrets: {
    summary: "set K=V... | unset K... | list | import [--file .env] (values are never printed)",
    subcommands: ["set", "unset", "list", "import"],
    positionals: true,
    flags: {
      config,
      app,
      "wait-for-lock": waitForLock,
      json,
      file: { type: "string", description: "import: dotenv file to read (default: stdin)", placeholder: "PATH" },
    },
  },
  destroy: {
    summary: "destroy an app and everything in it",
    flags: {
      app: { type: "string", description: "app to destroy", required: true, placeholder: "NAME" },
      yes: { type: "boolean", description: "confirm the destruction", required: true },
      "wait-for-lock": waitForLock,
      // Fly deletes apps asynchronously; exit 0 waits until GET app answers 404 (deploy/ops/destroy.ts).
      "wait-timeout": {
        type: "string",
        description: "how long to wait for Fly to finish removing the app (default 1m), then exit 1",
        placeholder: "DURATION",
      },
      json,
    },
  },
  db: {
    summary:
      "Managed Postgres: create [--name --region --plan --disk-gb] | attach [--database --user --force --wait-for-lock] | status | backup | backups | restore --backup ID [--name] | detach | destroy --yes [--force]; all take --cluster",
    subcommands: ["create", "attach", "status", "backup", "backups", "restore", "detach", "destroy"],
    // Each verb takes a subset of these; deploy/ops/db/command.ts refuses the others (exit 2).
    flags: {
      config,
      app,
      json,
      name: { type: "string", description: "create/restore: cluster name (default <app>-db)", placeholder: "N" },
      region: { type: "string", description: "create: region (default primary_region)", placeholder: "R" },
      plan: {
        type: "string",
        description: "create: plan (default basic)",
        values: ["basic", "starter", "launch", "scale", "performance"],
      },
      "disk-gb": { type: "integer", description: "create: disk size in GB (10-1000)", placeholder: "G" },
      cluster: { type: "string", description: "the cluster (default: the app's, or <app>-db)", placeholder: "ID|NAME" },
      database: { type: "string", description: "attach: database (default: the app name)", placeholder: "D" },
      user: { type: "string", description: "attach: user (default: the app name)", placeholder: "U" },
      backup: { type: "string", description: "restore: backup id (see db backups)", placeholder: "ID" },
      yes: { type: "boolean", description: "destroy: confirm" },
      force: { type: "boolean", description: "destroy while attached; attach over a DATABASE_URL set by hand" },
      "wait-for-lock": waitForLock,
    },
  },
  token: {
    summary: "create [--expiry 720h]: app-scoped deploy token for CI (printed once)",
    subcommands: ["create"],
    flags: {
      config,
      app,
      json,
      expiry: { type: "string", description: "how long the token is valid", placeholder: "720h" },
    },
  },
  image: {
    summary: "build [--push]: daemonless OCI image build",
    subcommands: ["build"],
    delegated: true,
    flags: {
      push: { type: "boolean", description: "push to the registry" },
      json,
      app: { type: "string", description: "app (repository) name; default from fly.toml", placeholder: "NAME" },
      config,
      tag: { type: "string", description: "image tag; default deployment-<id>", placeholder: "TAG" },
      base: { type: "string", description: "base image reference", placeholder: "REF" },
      registry: { type: "string", description: "registry host; default FLY_REGISTRY", placeholder: "HOST" },
    },
  },
  preview: {
    summary: "up --pr N [--image REF] | down --pr N | prune --closed: pull-request previews",
    subcommands: ["up", "down", "prune"],
    delegated: true,
    flags: {
      // Required by up/down, not by prune: deploy/preview/preview.ts checks per verb.
      pr: { type: "integer", description: "pull request number", placeholder: "N" },
      image,
      closed: { type: "boolean", description: "prune: previews whose pull request is closed" },
      "wait-for-lock": waitForLock,
      json,
    },
  },
  logs: {
    summary: "print the app's recent logs; --follow keeps polling until Ctrl-C (--json: one object per line)",
    flags: {
      config,
      app: {
        type: "string",
        description: "app to read (a preview's name); default from fly.toml",
        placeholder: "NAME",
      },
      machine: { type: "string", description: "only this machine's lines", placeholder: "ID" },
      region: { type: "string", description: "only this region's lines", placeholder: "R" },
      follow: { type: "boolean", description: "keep polling for new lines until Ctrl-C" },
      json: { type: "boolean", description: "one JSON object per log line (NDJSON)" },
    },
  },
  certs: {
    summary:
      "add|show|check|remove HOST: Fly-issued TLS certificate for a custom domain, with the DNS records to create",
    subcommands: ["add", "show", "check", "remove"],
    positionals: true,
    operands: "HOST",
    flags: { config, app, yes: { type: "boolean", description: "remove: confirm the removal" }, json },
  },
  exec: {
    summary: "run a one-off command (default: fly.toml console_command) on a started machine; exits with its exit code",
    passthrough: true,
    operands: "[-- CMD ARGS...]",
    flags: {
      config,
      app,
      machine: { type: "string", description: "machine to run on; default a started one", placeholder: "ID" },
      timeout: { type: "integer", description: "seconds the command may run (default 60)", placeholder: "S" },
      json,
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function usageText(): string {
  const lines = ["usage: bun deploy/run.ts <command> [flags]", ""];
  for (const [name, spec] of Object.entries(COMMANDS) as [string, CommandSpec][]) {
    const sub = spec.subcommands ? ` ${spec.subcommands.join("|")}` : "";
    const flags = Object.entries(spec.flags)
      .map(([flag, f]) => {
        const value = f.type === "boolean" ? "" : ` ${f.values ? f.values.join("|") : (f.placeholder ?? "VALUE")}`;
        return f.required ? `--${flag}${value}` : `[--${flag}${value}]`;
      })
      .join(" ");
    const operands = spec.operands ? ` ${spec.operands}` : "";
    lines.push(`  ${name}${sub} ${flags}${operands}`.trimEnd(), `      ${spec.summary}`);
  }
  lines.push(
    "",
    "environment: FLY_API_TOKEN (required for remote calls), FLY_FLAPS_BASE_URL, FLY_API_BASE_URL (logs), FLY_ORG (default personal), FLIGHTDECK_ALLOW_REGIONS (codes to accept, a,b)",
    "exit status: 0 done, 1 the operation failed, 2 usage/config/preflight error (nothing changed)",
  );
  return `${lines.join("\n")}\n`;
}
