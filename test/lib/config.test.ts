import { describe, expect, test } from "bun:test";
import { checkProductionSecrets, DEV_SECRET_KEY, loadConfig, REQUIRED_PRODUCTION_SECRETS } from "../../lib/config.ts";

const GOOD_KEY = `${"k".repeat(16) + "Z".repeat(16)}-prod`;
const PROD = {
  APP_ENV: "production",
  DATABASE_URL: "postgres://app:s3cretpw@db.internal:5432/app",
  SECRET_KEY: GOOD_KEY,
  ALLOWED_ORIGINS: "https://app.example.com",
};

function problemsOf(env: Record<string, string>) {
  const result = loadConfig(env);
  if (result.ok) throw new Error("expected the config to be refused");
  return result.error;
}

describe("defaults per environment", () => {
  test("development is the embedded SQLite default on localhost", () => {
    const result = loadConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      appEnv: "development",
      port: 3000,
      host: "127.0.0.1",
      databaseUrl: "sqlite:./data/flightdeck.db",
      dialect: "sqlite",
      mediaDir: "./data/media",
      secretKey: DEV_SECRET_KEY,
      allowedOrigins: ["*"],
      rateLimitPerMinute: 100,
      // Development logs in again after every restart; the internet-facing environments keep 5 (below).
      authRateLimitPerMinute: 60,
      trustProxy: false,
      migrateOnBoot: true,
    });
    expect(result.warnings.join()).toContain("SECRET_KEY");
  });

  test("bun test runs as the test environment on in-memory SQLite", () => {
    const result = loadConfig({ NODE_ENV: "test" });
    expect(result.ok && result.config.appEnv).toBe("test");
    expect(result.ok && result.config.databaseUrl).toBe("sqlite::memory:");
  });

  test("preview listens on all interfaces, trusts the proxy, keeps SQLite on the machine", () => {
    const result = loadConfig({ APP_ENV: "preview", SECRET_KEY: GOOD_KEY });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      host: "0.0.0.0",
      trustProxy: true,
      dialect: "sqlite",
      migrateOnBoot: true,
      authRateLimitPerMinute: 5,
    });
  });

  test("production: PostgreSQL, media on the volume, migrations by the release command only", () => {
    const result = loadConfig(PROD);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      dialect: "postgres",
      mediaDir: "/app/media",
      mediaRequireMount: true,
      migrateOnBoot: false,
      host: "0.0.0.0",
      trustProxy: true,
      authRateLimitPerMinute: 5,
    });
    const limitSet = loadConfig({ ...PROD, AUTH_RATE_LIMIT_PER_MINUTE: "20" });
    expect(limitSet.ok && limitSet.config.authRateLimitPerMinute).toBe(20);
    const optedOut = loadConfig({ ...PROD, MEDIA_REQUIRE_MOUNT: "false" });
    expect(optedOut.ok && optedOut.config.mediaRequireMount).toBe(false);
    // Only production requires the volume by default: preview keeps media on the machine's own disk.
    const preview = loadConfig({ ...PROD, APP_ENV: "preview", DATABASE_URL: "sqlite:/tmp/x.db" });
    expect(preview.ok && preview.config.mediaRequireMount).toBe(false);
  });

  test("Fly's runtime variables are read", () => {
    const result = loadConfig({
      ...PROD,
      FLY_APP_NAME: "flightdeck",
      FLY_REGION: "ewr",
      FLY_MACHINE_ID: "e286",
      PRIMARY_REGION: "ewr",
      APP_VERSION: "v7",
    });
    expect(result.ok && result.config.fly).toEqual({
      appName: "flightdeck",
      region: "ewr",
      machineId: "e286",
      primaryRegion: "ewr",
    });
    expect(result.ok && result.config.appVersion).toBe("v7");
  });
});

describe("production refusals", () => {
  test("a SQLite DATABASE_URL", () => {
    const error = problemsOf({ ...PROD, DATABASE_URL: "sqlite:./data/x.db" });
    expect(error.problems).toEqual([
      expect.objectContaining({ setting: "DATABASE_URL", problem: expect.stringContaining("PostgreSQL") }),
    ]);
  });
  test("a missing DATABASE_URL", () => {
    const { DATABASE_URL: _, ...env } = PROD;
    expect(problemsOf(env).problems[0]?.setting).toBe("DATABASE_URL");
  });
  test("a missing SECRET_KEY", () => {
    const { SECRET_KEY: _, ...env } = PROD;
    expect(problemsOf(env).problems).toEqual([
      expect.objectContaining({ setting: "SECRET_KEY", problem: "is missing" }),
    ]);
  });
  test("a SECRET_KEY shorter than 32 characters", () => {
    expect(problemsOf({ ...PROD, SECRET_KEY: "x".repeat(31) }).problems[0]?.problem).toContain("too short");
  });
  test("the development SECRET_KEY", () => {
    expect(problemsOf({ ...PROD, SECRET_KEY: DEV_SECRET_KEY }).problems[0]?.problem).toContain("development key");
  });
  test("'*' in ALLOWED_ORIGINS", () => {
    expect(problemsOf({ ...PROD, ALLOWED_ORIGINS: "https://a.example, *" }).problems[0]?.setting).toBe(
      "ALLOWED_ORIGINS",
    );
  });
  test("preview needs its own SECRET_KEY too", () => {
    expect(problemsOf({ APP_ENV: "preview" }).problems[0]?.setting).toBe("SECRET_KEY");
  });
});

describe("validation reports every problem together, without secret values", () => {
  test("all problems in one error, each with setting, problem and fix", () => {
    const error = problemsOf({
      APP_ENV: "production",
      DATABASE_URL: "mysql://root:hunter2hunter2@db/x",
      SECRET_KEY: "tiny-secret",
      ALLOWED_ORIGINS: "*",
      PORT: "eighty",
      LOG_LEVEL: "loud",
      ENABLE_REGISTRATION: "maybe",
    });
    expect(error.code).toBe("config_invalid");
    expect(error.problems.map((p) => p.setting).sort()).toEqual([
      "ALLOWED_ORIGINS",
      "DATABASE_URL",
      "ENABLE_REGISTRATION",
      "LOG_LEVEL",
      "PORT",
      "SECRET_KEY",
    ]);
    for (const problem of error.problems) expect(problem.fix.length).toBeGreaterThan(5);
    expect(error.message).toContain("6 problems");
    expect(error.message).not.toContain("hunter2");
    expect(error.message).not.toContain("tiny-secret");
  });

  test("a bad APP_ENV is named with the allowed values", () => {
    expect(problemsOf({ APP_ENV: "prod" }).problems[0]).toMatchObject({
      setting: "APP_ENV",
      problem: expect.stringContaining("production"),
    });
  });

  test("out-of-range integers are refused", () => {
    expect(problemsOf({ PORT: "70000" }).problems[0]?.setting).toBe("PORT");
    expect(problemsOf({ RATE_LIMIT_PER_MINUTE: "0" }).problems[0]?.setting).toBe("RATE_LIMIT_PER_MINUTE");
    expect(problemsOf({ MAX_UPLOAD_BYTES: "1e9" }).problems[0]?.setting).toBe("MAX_UPLOAD_BYTES");
  });

  test("an unsupported database scheme outside production", () => {
    expect(problemsOf({ DATABASE_URL: "mongodb://x" }).problems[0]?.problem).toContain("unsupported scheme");
  });
});

describe("checkProductionSecrets (the deploy preflight)", () => {
  test("names the required secrets", () => {
    expect([...REQUIRED_PRODUCTION_SECRETS]).toEqual(["DATABASE_URL", "SECRET_KEY"]);
  });
  test("accepts good values and refuses bad ones without echoing them", () => {
    expect(checkProductionSecrets({ DATABASE_URL: PROD.DATABASE_URL, SECRET_KEY: GOOD_KEY })).toEqual([]);
    const problems = checkProductionSecrets({ DATABASE_URL: "sqlite:/tmp/pw-in-path", SECRET_KEY: "short-value-xyz" });
    expect(problems.map((p) => p.setting)).toEqual(["DATABASE_URL", "SECRET_KEY"]);
    expect(JSON.stringify(problems)).not.toContain("short-value-xyz");
    expect(JSON.stringify(problems)).not.toContain("pw-in-path");
  });
});

describe("PostgreSQL connection lifetimes", () => {
  test("default to recycling every 600 s and closing idle connections after 30 s", () => {
    const result = loadConfig(PROD);
    expect(result.ok && { life: result.config.dbMaxLifetimeS, idle: result.config.dbIdleTimeoutS }).toEqual({
      life: 600,
      idle: 30,
    });
  });

  test("are read from DATABASE_MAX_LIFETIME_S and DATABASE_IDLE_TIMEOUT_S", () => {
    const result = loadConfig({ ...PROD, DATABASE_MAX_LIFETIME_S: "120", DATABASE_IDLE_TIMEOUT_S: "5" });
    expect(result.ok && { life: result.config.dbMaxLifetimeS, idle: result.config.dbIdleTimeoutS }).toEqual({
      life: 120,
      idle: 5,
    });
  });

  test.each([["0"], ["-5"], ["1.5"], ["ten"]])(
    "%p is refused for both, each named, and the DATABASE_URL is never shown",
    (bad) => {
      const error = problemsOf({ ...PROD, DATABASE_MAX_LIFETIME_S: bad, DATABASE_IDLE_TIMEOUT_S: bad });
      expect(error.problems.map((p) => p.setting)).toEqual(["DATABASE_MAX_LIFETIME_S", "DATABASE_IDLE_TIMEOUT_S"]);
      expect(error.message).toContain(JSON.stringify(bad));
      expect(error.message).not.toContain("s3cretpw");
      expect(error.message).not.toContain("db.internal");
    },
  );
});

describe("tracing settings (OpenTelemetry's own names)", () => {
  test("off by default; on with an endpoint, whose trailing slash goes", () => {
    const off = loadConfig({});
    expect(off.ok && off.config.otelEndpoint).toBeUndefined();
    const on = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.internal:4318/",
      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=abc%3D1, x-other = two",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    });
    if (!on.ok) throw on.error;
    expect(on.config.otelEndpoint).toBe("http://collector.internal:4318");
    expect(on.config.otelHeaders).toEqual({ "x-honeycomb-team": "abc=1", "x-other": "two" });
    expect(on.config.otelSampleRatio).toBe(0.25);
  });

  test("a bad endpoint, headers and ratio are reported together, the headers' value hidden", () => {
    const error = problemsOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "apikeysecretvalue",
      OTEL_TRACES_SAMPLER_ARG: "2",
    });
    expect(error.problems.map((p) => p.setting).sort()).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_HEADERS",
      "OTEL_TRACES_SAMPLER_ARG",
    ]);
    expect(error.message).not.toContain("apikeysecretvalue");
  });
});
