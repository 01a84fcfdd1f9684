/**
 * A Sentry DSN (`https://<public key>@<host>[/<path>]/<project id>`) and where its envelopes go: POST
 * `<scheme>://<host>[/<path>]/api/<project id>/envelope/`, authenticated by the X-Sentry-Auth header
 * (https://develop.sentry.dev/sdk/overview/#parsing-the-dsn, #authentication).
 * @module
 */

export interface Dsn {
  publicKey: string;
  projectId: string;
  envelopeUrl: string;
  /** The DSN without its key, for messages. */
  shown: string;
}

export type DsnResult = { ok: true; dsn: Dsn } | { ok: false; problem: string };

export function parseDsn(text: string): DsnResult {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: "is not a URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, problem: "must be https:// (or http://)" };
  if (url.username === "") return { ok: false, problem: "has no public key (https://<key>@<host>/<project id>)" };
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const projectId = segments.pop();
  if (projectId === undefined || !/^\d+$/.test(projectId))
    return { ok: false, problem: "does not end in a numeric project id" };
  const path = segments.length > 0 ? `/${segments.join("/")}` : "";
  const origin = `${url.protocol}//${url.host}`;
  return {
    ok: true,
    dsn: {
      publicKey: decodeURIComponent(url.username),
      projectId,
      envelopeUrl: `${origin}${path}/api/${projectId}/envelope/`,
      shown: `${origin}${path}/${projectId}`,
    },
  };
}
