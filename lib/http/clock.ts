/**
 * Time as a dependency: the retry and polling helpers read the time and sleep only through a `Clock`, so tests can
 * pass a manual one and assert exact delays without waiting for them.
 * @module
 */

export interface Clock {
  /** Milliseconds since the epoch (the same scale as `Date.now()`, so deadlines can be compared with HTTP dates). */
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts (the caller checks `signal.aborted` afterwards). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time and a timer-based sleep that an abort wakes at once instead of after the full delay. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};
