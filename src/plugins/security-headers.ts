/**
 * Security headers on every response, errors included (set in onRequest, before anything can fail).
 * The API answers JSON, so its CSP allows nothing at all; /docs is the one HTML page and gets a CSP that
 * lets the Scalar viewer load from its CDN. HSTS only where TLS is guaranteed (Fly's edge with
 * force_https in production and preview), never on plain-HTTP local runs.
 * @module
 */
import { Elysia } from "elysia";
import type { AppEnv } from "../../lib/config.ts";

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const DOCS_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https:; "
  + "font-src 'self' data: https:; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Two years, the value hstspreload.org asks for. */
export const HSTS = "max-age=63072000; includeSubDomains";

export function securityHeaders(appEnv: AppEnv, docsPath = "/docs") {
  const tls = appEnv === "production" || appEnv === "preview";
  return new Elysia({ name: "security-headers" }).onRequest(function securityHeaders({ request, set }) {
    const headers = set.headers;
    headers["x-content-type-options"] = "nosniff";
    headers["x-frame-options"] = "DENY";
    headers["referrer-policy"] = "no-referrer";
    headers["cross-origin-opener-policy"] = "same-origin";
    if (tls) headers["strict-transport-security"] = HSTS;
    const path = request.url.slice(request.url.indexOf("/", 8));
    headers["content-security-policy"] = path === docsPath || path.startsWith(`${docsPath}?`) ? DOCS_CSP : API_CSP;
  });
}
