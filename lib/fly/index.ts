/** Public surface of the Fly Machines API client. @module */
export { authorizationHeader, isMacaroon, stripAuthorizationScheme } from "./auth.ts";
export {
  createFlyClient,
  DEFAULT_BASE_URL,
  FlyClientConfigError,
  type FlyClient,
  type FlyClientOptions,
  type LeaseOptions,
  type ListMachinesOptions,
  type SecretsWriteResult,
  type WaitOptions,
  type WaitResult,
} from "./client.ts";
export { createCallLog, type CallLog } from "./call-log.ts";
export {
  createLogsClient,
  DEFAULT_API_BASE_URL,
  type LogEntry,
  type LogsClient,
  type LogsClientOptions,
  type LogsPage,
} from "./logs.ts";
export { codeForStatus, FlyApiError, isFlyApiError, type FlyApiErrorCode } from "./errors.ts";
export { DEFAULT_RETRY, type RetryOptions } from "./retry.ts";
export { ROUTES, type RouteName } from "./routes.ts";
export type { HttpMethod, RequestInfo } from "./transport.ts";
export type * from "./types.ts";
