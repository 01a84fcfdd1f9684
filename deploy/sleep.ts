// Waiting that an abort (Ctrl-C, SIGTERM of a cancelled CI job) cuts short, shared by the lock and the waits.
// Machine leases themselves live in fleet-lock.ts: every change runs under the whole fleet's lock.

import { DeployError } from "./deploy-error.ts";

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): DeployError {
  const reason =
    signal.reason instanceof Error ? signal.reason.message : signal.reason ? String(signal.reason) : "aborted";
  return new DeployError("aborted", `deploy aborted: ${reason}`);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
