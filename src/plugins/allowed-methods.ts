/**
 * Which methods a path answers, for 405 Method Not Allowed: RFC 9110 section 15.5.6 says a request whose method
 * the target does not support is 405 with an Allow header listing the ones it does, where Elysia answers every
 * unmatched method and path alike (404 "no route"). Built from the app's own route table on the first miss, so
 * it cannot drift from the routes; a path no route matches stays 404.
 * @module
 */

interface RouteEntry {
  method: string;
  path: string;
}

/** `:name` matches one segment and a trailing `*` the rest, as in Elysia's router. */
function matcherOf(pattern: string): RegExp {
  const parts = pattern.split("/").map((segment) => {
    if (segment === "*") return ".+";
    if (segment.startsWith(":")) return "[^/]+";
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${parts.join("/")}/?$`);
}

/**
 * `routes` is read on first use, after every route is registered. GET implies HEAD (Elysia answers HEAD with
 * the GET handler); OPTIONS is answered for every path by the CORS hook.
 */
export function allowedMethods(routes: () => readonly RouteEntry[]): (path: string) => string[] {
  let table: { match: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= routes()
      .filter((r) => r.method !== "ALL" && r.method !== "WS")
      .map((r) => ({ match: matcherOf(r.path), method: r.method.toUpperCase() }));
    const methods = new Set(table.filter((r) => r.match.test(path)).map((r) => r.method));
    if (methods.size === 0) return [];
    if (methods.has("GET")) methods.add("HEAD");
    methods.add("OPTIONS");
    const order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    return [...methods].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  };
}
