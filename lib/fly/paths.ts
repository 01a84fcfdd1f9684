/** URL building for the Fly client: path templates from the OpenAPI document and query strings. @module */

export type QueryValue = string | number | boolean | undefined | readonly string[];

/** Builds `?a=1&b=x` from defined values; arrays repeat the key (as the spec's `state` and `metadata.*` allow). */
export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Expands `/v1/apps/{app_name}` with URI-encoded values (octokit endpoint style). */
export function expandPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === "") throw new TypeError(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(value);
  });
}
