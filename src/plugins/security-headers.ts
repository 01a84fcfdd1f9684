/**
 * Security headers on every response, errors included (src/plugins/json-response.ts adds them to each).
 * The API answers JSON, so its CSP allows nothing at all; /docs is the one HTML page and gets a CSP that
 * lets Swagger UI run from this origin only (src/plugins/docs-page.ts): its scripts are files, not inline; it
 * sets inline styles and its stylesheet has data: images (https://github.com/swagger-api/swagger-ui/issues/7540). HSTS only where TLS is guaranteed (Fly's edge with
 * force_https in production and preview), never on plain-HTTP local runs.
 * @module
 */
import type { AppEnv } from "../../lib/config.ts";

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** Two years, the value hstspreload.org asks for. */
export const HSTS = "max-age=63072000; includeSubDomains";

/** The headers every response carries whatever its path (the CSP depends on the path; see securityHeaderSet). */
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

/**
 * Every response's security headers, with the API's CSP; `byPath` gives /docs, the one HTML page, the CSP that
 * lets Swagger UI load from this origin. src/plugins/json-response.ts puts them on every response.
 */
export function securityHeaderSet(appEnv: AppEnv, docsPath = "/docs") {
  return {
    usual: { ...fixedSecurityHeaders(appEnv), "content-security-policy": API_CSP },
    byPath: { [docsPath]: { "content-security-policy": DOCS_CSP } },
  };
}
