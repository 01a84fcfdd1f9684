// Strategy dispatch, and the refusals flyctl makes before anything changes (validation.go, bluegreen):
// canary with [mounts], bluegreen without checks or with [mounts].
import type { DeployConfig, Strategy } from "../../config/flytoml.ts";
import type { MachineUpdate, RolloutContext } from "../rollout.ts";
import { bluegreen } from "./bluegreen.ts";
import { canary } from "./canary.ts";
import { immediate } from "./immediate.ts";
import { rolling } from "./rolling.ts";

export type StrategyRunner = (updates: readonly MachineUpdate[], ctx: RolloutContext) => Promise<void>;

export const STRATEGY_RUNNERS: Record<Strategy, StrategyRunner> = { rolling, immediate, bluegreen, canary };

/** Problems that make `strategy` impossible for this config; empty when it can run. */
export function strategyProblems(strategy: Strategy, cfg: DeployConfig): string[] {
  const problems: string[] = [];
  const hasChecks =
    Object.keys(cfg.checks).length > 0 ||
    (cfg.httpService?.checks.length ?? 0) > 0 ||
    cfg.services.some((s) => s.checks.length > 0);
  const hasMount = cfg.mounts.length > 0;
  if (strategy === "canary" && hasMount) {
    problems.push(
      "the canary strategy cannot be used with [mounts] (flyctl refuses it too): the canary machine would need a volume of its own; use rolling",
    );
  }
  if (strategy === "bluegreen" && !hasChecks) {
    problems.push(
      "the bluegreen strategy needs at least one health check ([[http_service.checks]] or [checks]) to know when green machines are ready",
    );
  }
  if (strategy === "bluegreen" && hasMount) {
    problems.push(
      "the bluegreen strategy cannot be used with [mounts]: a volume cannot move to its green twin; use rolling",
    );
  }
  return problems;
}

/** Whether the strategy waits for machines to be started and healthy (immediate does not, flyctl §2.7). */
export function strategyWaits(strategy: Strategy): boolean {
  return strategy !== "immediate";
}
