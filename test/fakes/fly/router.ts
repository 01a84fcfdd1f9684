// A tiny method + path-pattern router for the fake (":name" segments), enough for the Machines API paths.

import type { FakeApp } from "./state.ts";

export interface RouteInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** `fly-machine-lease-nonce` header. */
  nonce: string | undefined;
  /** The app named by `:app`, already looked up (404 when missing). */
  app: FakeApp | undefined;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  handle(input: RouteInput): Response | Promise<Response>;
}

export interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export function compile(routes: Route[]): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split("/")
      .map((segment) => {
        if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(segment.slice(1));
        return "([^/]+)";
      })
      .join("/");
    return { ...route, pattern: new RegExp(`^${source}$`), names };
  });
}

export function match(
  routes: CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; params: Record<string, string> } | "method_not_allowed" | undefined {
  let pathMatched = false;
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, index) => {
      params[name] = decodeURIComponent(found[index + 1] ?? "");
    });
    return { route, params };
  }
  return pathMatched ? "method_not_allowed" : undefined;
}
