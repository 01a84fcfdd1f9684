/**
 * Security headers on every response, errors included (present from the moment the context exists, before anything can fail).
 * The API answers JSON, so its CSP allows nothing at all; /docs is the one HTML page and gets a CSP that
 * lets the Scalar viewer load from its CDN. HSTS only where TLS is guaranteed (Fly's edge with
 * force_https in production and preview), never on plain-HTTP local runs.
 * @module
 */
import { Elysia } from "elysia";
import type { AppEnv } from "../../lib/config.ts";
import { type HookContext, pathOf } from "./request-context.ts";

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const DOCS_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https:; "
  + "font-src 'self' data: https:; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Two years, the value hstspreload.org asks for. */
export const HSTS = "max-age=63072000; includeSubDomains";

/** The headers every response carries whatever its path (the CSP depends on the path; see securityHeaders). */
export function fixedSecurityHeaders(appEnv: AppEnv): Record<string, string> {
  const tls = appEnv === "production" || appEnv === "preview";
  return {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    ...(tls ? { "strict-transport-security": HSTS } : {}),
  };
}

export function securityHeaders(appEnv: AppEnv, docsPath = "/docs") {
  // The fixed headers are Elysia's default headers, copied into every context when it is created: the same
  // guarantee as setting them first thing in onRequest, without a hook writing them one by one per request.
  // The CSP stays per request: a default header is baked into static responses (the /docs page) at compile
  // time and would then win over the docs CSP.
  return new Elysia({ name: "security-headers" })
    .headers(fixedSecurityHeaders(appEnv))
    .onRequest(function contentSecurityPolicy({ request, path, set }: HookContext) {
      set.headers["content-security-policy"] = pathOf(request, path) === docsPath ? DOCS_CSP : API_CSP;
    });
}
