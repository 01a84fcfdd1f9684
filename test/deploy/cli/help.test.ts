// Help, version and did-you-mean through the CLI's in-process entry main(argv, io) (deploy/run.ts).
import { expect, test } from "bun:test";
import { main } from "../../../deploy/run.ts";
import pkg from "../../../package.json";

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env: {},
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

test("--help, -h and help print the command list on stdout, exit 0", async () => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    const r = await run(...argv);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toStartWith("usage: bun deploy/run.ts <command> [flags]\n");
    expect(r.stdout).toContain("\n  deploy ");
  }
});

test("<command> --help and help <command> print that command's flags only", async () => {
  const a = await run("scale", "--help");
  const b = await run("help", "scale");
  const c = await run("preview", "up", "-h");
  expect(a).toEqual(b);
  expect(a.code).toBe(0);
  expect(a.stdout).toStartWith("usage: bun deploy/run.ts scale [flags]\n");
  expect(a.stdout).toContain("--count N");
  expect(a.stdout).not.toContain("--strategy");
  expect(c.code).toBe(0);
  expect(c.stdout).toStartWith("usage: bun deploy/run.ts preview up|down|prune [flags]\n");
});

test("--help after -- belongs to the remote command", async () => {
  const r = await run("exec", "--", "ls", "--help");
  // Not the help page: exec goes on and stops on the missing token (exit 2, stderr).
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain("FLY_API_TOKEN");
});

test("--version prints package.json's version", async () => {
  const r = await run("--version");
  expect(r).toEqual({ code: 0, stdout: `flightdeck ${pkg.version}\n`, stderr: "" });
});

test("a mistyped command or flag gets did-you-mean and exit 2; a usage error prints the command's own usage", async () => {
  const cmd = await run("depoly");
  expect(cmd.code).toBe(2);
  expect(cmd.stderr).toStartWith('error: unknown command "depoly"; did you mean "deploy"?\n');
  const help = await run("help", "depoly");
  expect(help.code).toBe(2);
  expect(help.stderr).toContain('did you mean "deploy"?');
  const flag = await run("plan", "--jsn");
  expect(flag.code).toBe(2);
  expect(flag.stderr).toStartWith(
    'error: unknown flag --jsn for "plan"; did you mean "--json"?\n\nusage: bun deploy/run.ts plan [flags]\n',
  );
  // Only plan's own usage, not the list of every command.
  expect(flag.stderr).not.toContain("\n  status ");
});
