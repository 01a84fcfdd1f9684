import { expect, test } from "bun:test";
import fc from "fast-check";
import { createLogger, REDACTED, redact } from "../../lib/log.ts";
import { accessLogMembers } from "../../src/plugins/request-context.ts";

test("one JSON line per event, below-threshold levels dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (l) => lines.push(l), fields: { component: "t" } });
  log.debug("hidden");
  log.info("shown", { n: 1 });
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "shown", component: "t", n: 1 });
});

test("secret-looking keys and URL passwords are redacted, nested too", () => {
  const out = JSON.stringify(
    redact({
      authorization: "Bearer abc",
      nested: { api_key: "k1", password: "p", list: [{ cookie: "c" }] },
      url: "postgres://user:hunter2@db:5432/x",
      DATABASE_URL: "postgres://a:b@c/d",
      ok: "visible",
    }),
  );
  for (const secret of ["abc", "k1", "hunter2", '"p"', '"c"']) expect(out).not.toContain(secret);
  expect(out).toContain("visible");
  expect(out).toContain(REDACTED);
  expect(out).toContain("postgres://user:[redacted]@db:5432/x");
});

test("errors are flattened without stacks", () => {
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l) }).error("failed", {
    error: Object.assign(new Error("boom at postgres://u:pw@h/d"), { code: "E1" }),
  });
  const record = JSON.parse(lines[0]!);
  expect(record.error).toEqual({ name: "Error", message: "boom at postgres://u:[redacted]@h/d", code: "E1" });
});

test("a line built from flat fields is byte for byte what JSON.stringify(redact(record)) gives", () => {
  const flatValue = fc.oneof(
    fc.string(),
    fc.string({ unit: "grapheme" }),
    fc.constant("postgres://u:pw@h/d"),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(Number.NaN),
  );
  const key = fc.oneof(
    fc.string({ minLength: 1 }),
    fc.constantFrom("token", "password", "route", "status", "msg", "component", "api_key", "__proto__", "0", "12"),
  );
  fc.assert(
    fc.property(fc.dictionary(key, flatValue), fc.string(), (fields, msg) => {
      const lines: string[] = [];
      createLogger({ write: (l) => lines.push(l), fields: { component: "server", url: "http://a:b@c" } }).info(
        msg,
        fields,
      );
      const time = JSON.parse(lines[0]!).time;
      const expected = JSON.stringify(
        redact({ time, level: "info", msg, component: "server", url: "http://a:b@c", ...fields }),
      );
      expect(lines[0]).toBe(expected);
    }),
    { numRuns: 2000 },
  );
});

test("an access-log line written through lineWriter is byte for byte what logger.info writes for the record", () => {
  const record = fc.record({
    method: fc.oneof(fc.constantFrom("GET", "POST", "M-SEARCH"), fc.string({ minLength: 1 })),
    route: fc.oneof(
      fc.constantFrom("/health/live", "/v1/projects/:id", "unmatched"),
      fc.string(),
      fc.string({ unit: "grapheme" }),
    ),
    status: fc.integer({ min: 100, max: 599 }),
    duration_ms: fc.double({ min: 0, max: 1e6, noNaN: true }).map((ms) => Math.round(ms * 100) / 100),
    request_id: fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_\-.:=]{1,128}$/)),
  });
  fc.assert(
    fc.property(record, fc.boolean(), (fields, withBase) => {
      const viaInfo: string[] = [];
      const viaWriter: string[] = [];
      const base = withBase ? { component: "server", url: "http://a:b@c" } : undefined;
      createLogger({ write: (l) => viaInfo.push(l), fields: base }).info("request", fields);
      createLogger({ write: (l) => viaWriter.push(l), fields: base }).lineWriter("info", "request")!(
        accessLogMembers(fields),
      );
      const time = JSON.parse(viaInfo[0]!).time;
      expect(viaWriter[0]!.replace(/"time":"[^"]*"/, `"time":"${time}"`)).toBe(viaInfo[0]!);
    }),
    { numRuns: 2000 },
  );
  // Filtered out by level: no writer at all, so the caller skips building the line.
  expect(createLogger({ level: "warn", write: () => {} }).lineWriter("info", "request")).toBeUndefined();
  // Base fields the text path cannot place still come out in JSON.stringify's order.
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l), fields: { 7: "seven" } }).lineWriter("info", "request")!(',"a":1');
  expect(Object.keys(JSON.parse(lines[0]!))).toEqual(["7", "time", "level", "msg", "a"]);
});

test("stdout lines are batched but none is lost when the process exits, by exit() or by a throw", async () => {
  const script = `import { createLogger } from ${JSON.stringify(`${import.meta.dir}/../../lib/log.ts`)};
const log = createLogger({ fields: { component: "t" } });
for (let i = 0; i < 500; i++) log.info("line " + i);
if (process.argv[2] === "exit") process.exit(3);
if (process.argv[2] === "throw") throw new Error("boom");`;
  const path = `${require("node:os").tmpdir()}/log-exit-${crypto.randomUUID()}.ts`;
  await Bun.write(path, script);
  try {
    for (const how of ["natural", "exit", "throw"]) {
      const proc = Bun.spawn(["bun", path, how], { stdout: "pipe", stderr: "ignore" });
      const lines = (await new Response(proc.stdout).text()).trim().split("\n");
      await proc.exited;
      expect(lines).toHaveLength(500);
      expect(lines.map((l) => JSON.parse(l).msg)).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`));
    }
  } finally {
    await Bun.file(path).delete();
  }
});
