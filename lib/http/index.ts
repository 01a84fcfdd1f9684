/** Shared HTTP-client policy: one retry/backoff runner, one polling helper, and the clock both run on. @module */
export { type Clock, systemClock } from "./clock.ts";
export { type PollContext, type PollOptions, type PollOutcome, pollUntil } from "./poll.ts";
export {
  type AttemptContext,
  type AttemptResult,
  type BackoffPolicy,
  backoffStep,
  type FailureVerdict,
  type GiveUpReason,
  parseRetryAfter,
  type RetryOutcome,
  type RetryRun,
  retryDelay,
  withRetry,
} from "./retry.ts";
