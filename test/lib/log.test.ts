import { expect, test } from "bun:test";
import fc from "fast-check";
import { createLogger, REDACTED, redact } from "../../lib/log.ts";

test("one JSON line per event, below-threshold levels dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (l) => lines.push(l), fields: { component: "t" } });
  log.debug("hidden");
  log.info("shown", { n: 1 });
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "shown", component: "t", n: 1 });
});

test("secret-looking keys and URL passwords are redacted, nested too", () => {
  const out = JSON.stringify(redact({
    authorization: "Bearer abc", nested: { api_key: "k1", password: "p", list: [{ cookie: "c" }] },
    url: "postgres://user:hunter2@db:5432/x", DATABASE_URL: "postgres://a:b@c/d", ok: "visible",
  }));
  for (const secret of ["abc", "k1", "hunter2", '"p"', '"c"']) expect(out).not.toContain(secret);
  expect(out).toContain("visible");
  expect(out).toContain(REDACTED);
  expect(out).toContain("postgres://user:[redacted]@db:5432/x");
});

test("errors are flattened without stacks", () => {
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l) }).error("failed", { error: Object.assign(new Error("boom at postgres://u:pw@h/d"), { code: "E1" }) });
  const record = JSON.parse(lines[0]!);
  expect(record.error).toEqual({ name: "Error", message: "boom at postgres://u:[redacted]@h/d", code: "E1" });
});

test("a line built from flat fields is byte for byte what JSON.stringify(redact(record)) gives", () => {
  const flatValue = fc.oneof(
    fc.string(), fc.string({ unit: "grapheme" }), fc.constant("postgres://u:pw@h/d"), fc.double(), fc.integer(),
    fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(Number.NaN),
  );
  const key = fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom("token", "password", "route", "status", "msg", "component", "api_key", "__proto__", "0", "12"));
  fc.assert(fc.property(fc.dictionary(key, flatValue), fc.string(), (fields, msg) => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l), fields: { component: "server", url: "http://a:b@c" } }).info(msg, fields);
    const time = JSON.parse(lines[0]!).time;
    const expected = JSON.stringify(redact({ time, level: "info", msg, component: "server", url: "http://a:b@c", ...fields }));
    expect(lines[0]).toBe(expected);
  }), { numRuns: 2000 });
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
