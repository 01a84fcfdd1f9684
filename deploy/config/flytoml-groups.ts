// Process groups, as flyctl's internal/appconfig/processgroups.go defines them: the group names, the default
// group, and one group's view of the config (`Config.Flatten`). A section with `processes = [...]` belongs to the
// groups it names; a section without belongs to the default group only, except [[vm]], which then applies to
// every group that has no [[vm]] of its own (`ComputeForGroup`).

import type { ConfigProblem } from "./config-reader.ts";
import type {
  DeployConfig,
  FileSpec,
  HttpService,
  MetricsSpec,
  MountSpec,
  RestartSpec,
  Service,
  TopLevelCheck,
  VmSpec,
} from "./flytoml-types.ts";
import { splitCommand } from "./shell-words.ts";

export const DEFAULT_PROCESS_GROUP = "app";

/** The groups of `[processes]`, sorted; ["app"] without one (flyctl `ProcessNames`). */
export function processNames(cfg: Pick<DeployConfig, "processes">): string[] {
  const names = Object.keys(cfg.processes).sort();
  return names.length > 0 ? names : [DEFAULT_PROCESS_GROUP];
}

/** "app" when it is a group (or there is no [processes]), else the first name in order (flyctl `DefaultProcessName`). */
export function defaultProcessName(cfg: Pick<DeployConfig, "processes">): string {
  const names = processNames(cfg);
  return names.includes(DEFAULT_PROCESS_GROUP) ? DEFAULT_PROCESS_GROUP : (names[0] as string);
}

/** flyctl `flattenGroupsMatch`: the section names the group, or names none and the group is the default. */
export function sectionApplies(
  cfg: Pick<DeployConfig, "processes">,
  group: string,
  processes: readonly string[],
): boolean {
  if (processes.length === 0) return group === defaultProcessName(cfg);
  return processes.includes(group) || (processes.includes("") && group === defaultProcessName(cfg));
}

/** One process group's part of fly.toml: what its machines run. */
export type GroupConfig = {
  name: string;
  /** The group's `[processes]` command, shell-split; undefined = the image CMD ([experimental] cmd, if any). */
  cmd?: string[];
  httpService?: HttpService;
  /** `[[services]]` of this group; `[http_service]` is kept apart and expanded first by machine-config.ts. */
  services: Service[];
  checks: Record<string, TopLevelCheck>;
  mount?: MountSpec;
  vm?: VmSpec;
  restart?: RestartSpec;
  metrics?: MetricsSpec;
  files: FileSpec[];
};

/** flyctl `ComputeForGroup`: among [[vm]] entries naming the group or naming none, the last that names it, else the first. */
function vmFor(cfg: DeployConfig, group: string): VmSpec | undefined {
  const candidates = cfg.vms.filter((v) => v.processes.length === 0 || sectionApplies(cfg, group, v.processes));
  let chosen = candidates[0];
  for (const v of candidates.slice(1)) if (v.processes.includes(group)) chosen = v;
  return chosen;
}

/** flyctl `Config.Flatten(group)`. The last [[restart]] that applies wins, as in `updateMachineConfig`. */
export function groupConfig(cfg: DeployConfig, group: string = defaultProcessName(cfg)): GroupConfig {
  const applies = (processes: readonly string[]) => sectionApplies(cfg, group, processes);
  const out: GroupConfig = {
    name: group,
    services: cfg.services.filter((s) => applies(s.processes)),
    checks: Object.fromEntries(
      Object.entries(cfg.checks)
        .filter(([, c]) => applies(c.processes))
        .map(([name, { processes: _p, ...c }]) => [name, c]),
    ),
    files: cfg.files.filter((f) => applies(f.processes)),
  };
  const command = cfg.processes[group];
  if (command) out.cmd = splitCommand(command) ?? undefined;
  if (cfg.httpService && applies(cfg.httpService.processes)) out.httpService = cfg.httpService;
  const mount = cfg.mounts.find((m) => applies(m.processes));
  if (mount) out.mount = mount;
  const vm = vmFor(cfg, group);
  if (vm) out.vm = vm;
  const restart = cfg.restarts.filter((x) => applies(x.processes)).at(-1);
  if (restart) out.restart = restart;
  // flyctl: "Metrics = c.Metrics[0]" after flattening.
  const metrics = cfg.metrics.find((m) => applies(m.processes));
  if (metrics) out.metrics = metrics;
  return out;
}

/** The groups whose machines serve `[http_service]`. */
export function httpGroups(cfg: DeployConfig): string[] {
  return processNames(cfg).filter(
    (g) => cfg.httpService !== undefined && sectionApplies(cfg, g, cfg.httpService.processes),
  );
}

/** A group serves the public internet when it has [http_service] or [[services]] with ports. */
export function groupIsPublic(g: GroupConfig): boolean {
  return g.httpService !== undefined || g.services.some((s) => s.ports.length > 0);
}

/**
 * What flyctl's validation.go and ToMachineConfig refuse across groups: a service with no `processes` while
 * [processes] has groups, a group name that is no group, two mounts in one group, a check with no port in a group
 * without [http_service]. Names in other sections that match no group only warn (flyctl silently drops them).
 */
export function groupProblems(cfg: DeployConfig): (ConfigProblem & { warning?: boolean })[] {
  const out: (ConfigProblem & { warning?: boolean })[] = [];
  const names = processNames(cfg);
  const hasGroups = Object.keys(cfg.processes).length > 0;
  const strict = (path: string, processes: readonly string[], what: string) => {
    if (processes.length === 0 && hasGroups) {
      out.push({
        path,
        message: `${what} has no processes set but [processes] defines ${names.length} group(s) (${names.join(", ")}); set processes = [...]`,
      });
    }
    for (const p of processes) {
      if (!names.includes(p))
        out.push({
          path: `${path}.processes`,
          message: `"${p}" is not a process group (${names.join(", ")}); add it to [processes] or remove it here`,
        });
    }
  };
  if (cfg.httpService) strict("http_service", cfg.httpService.processes, "[http_service]");
  for (const [i, s] of cfg.services.entries()) strict(`services[${i}]`, s.processes, "[[services]]");
  cfg.restarts.forEach((x, i) => {
    for (const p of x.processes)
      if (!names.includes(p))
        out.push({ path: `restart[${i}].processes`, message: `"${p}" is not a process group (${names.join(", ")})` });
  });
  const loose: [string, { processes: string[] }[]][] = [
    ["mounts", cfg.mounts],
    ["vm", cfg.vms],
    ["metrics", cfg.metrics],
    ["files", cfg.files],
  ];
  for (const [section, entries] of loose) {
    entries.forEach((e, i) => {
      for (const p of e.processes)
        if (!names.includes(p))
          out.push({
            path: `${section}[${i}].processes`,
            message: `"${p}" is not a process group (${names.join(", ")}); this entry applies to no machine`,
            warning: true,
          });
    });
  }
  for (const [name, c] of Object.entries(cfg.checks)) {
    for (const p of c.processes)
      if (!names.includes(p))
        out.push({
          path: `checks.${name}.processes`,
          message: `"${p}" is not a process group (${names.join(", ")}); this check runs nowhere`,
          warning: true,
        });
  }
  for (const group of names) {
    const g = groupConfig(cfg, group);
    const mounts = cfg.mounts.filter((m) => sectionApplies(cfg, group, m.processes));
    if (mounts.length > 1)
      out.push({
        path: "mounts",
        message: `group '${group}' has more than one [[mounts]] section defined (a machine has one volume)`,
      });
    for (const [name, c] of Object.entries(g.checks)) {
      if (c.port === undefined && !g.httpService) {
        out.push({
          path: `checks.${name}.port`,
          message: `check '${name}' for process group '${group}' has no port set and the group has no [http_service] to take it from`,
        });
      }
    }
  }
  return out;
}
