/**
 * Replies that carry a credential (a database password, a deploy token). The client's general JSON parser quotes
 * the start of a malformed body in its error, which is right for diagnosis and wrong here: a truncated
 * `{"token":"FlyV1 fm2_…` would put the token into a log. These replies are parsed without ever quoting them.
 * @module
 */

import { FlyApiError } from "./errors.ts";
import type { Reply } from "./transport.ts";

/**
 * Parses a credential-bearing body and hands it to `pick`, which returns the wanted object or undefined when the
 * body lacks it. Either failure is an `invalid_response` whose message names the call, never the body.
 */
export function parseCredentialReply<T>(
  reply: Reply,
  call: { method: string; path: string },
  pick: (body: unknown) => T | undefined,
): T {
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    throw withheld(reply, call, "not JSON");
  }
  const picked = pick(body);
  if (picked === undefined) throw withheld(reply, call, "missing the expected fields");
  return picked;
}

function withheld(reply: Reply, call: { method: string; path: string }, what: string): FlyApiError {
  return new FlyApiError({
    code: "invalid_response",
    method: call.method,
    path: call.path,
    status: reply.status,
    apiMessage: `body ${what} (not shown: it carries a credential)`,
    requestId: reply.requestId,
    attempts: reply.attempts,
  });
}
