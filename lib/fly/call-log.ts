/**
 * A ready-made onRequest observer: records every attempt so callers (the deploy CLI's summary, tests) can count
 * calls and prove a no-op deploy made zero mutating calls.
 * @module
 */

import type { RequestInfo } from "./transport.ts";

export interface CallLog {
  readonly calls: RequestInfo[];
  onRequest(info: RequestInfo): void;
  /** Calls that could have changed something (every non-GET attempt). */
  mutating(): RequestInfo[];
  clear(): void;
}

export function createCallLog(): CallLog {
  const calls: RequestInfo[] = [];
  return {
    calls,
    onRequest(info) {
      calls.push(info);
    },
    mutating() {
      return calls.filter((call) => call.mutating);
    },
    clear() {
      calls.length = 0;
    },
  };
}
