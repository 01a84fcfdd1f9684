/**
 * A fake OpenTelemetry collector: a real HTTP server taking OTLP/HTTP trace exports as a collector's otlp
 * receiver does (https://opentelemetry.io/docs/specs/otlp/#otlphttp): POST /v1/traces with an
 * ExportTraceServiceRequest in the JSON encoding (ids as hex strings, attributes as {key, value: {stringValue |
 * intValue | ...}}), answered 200 with an ExportTraceServiceResponse. A real receiver also takes protobuf; this
 * one answers 415 to it, which the JSON exporter Flightdeck uses never sends. With `requireHeaders`, an export
 * without them is refused 401, as a hosted collector refuses a missing API key. Every raw body is kept, to
 * search for leaked secrets.
 * @module
 */

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status?: { code?: number; message?: string };
  resource: Record<string, string | number | boolean>;
}

export interface FakeCollector {
  url: string;
  spans: OtlpSpan[];
  raw: string[];
  refused: string[];
  stop(): void;
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const anyValue = (v: AnyValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ""));
const attributes = (list: { key: string; value: AnyValue }[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, anyValue(a.value)]));

export function startFakeCollector(requireHeaders: Record<string, string> = {}): FakeCollector {
  const spans: OtlpSpan[] = [];
  const raw: string[] = [];
  const refused: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method !== "POST" || url.pathname !== "/v1/traces") {
        refused.push(`${request.method} ${url.pathname}`);
        return new Response("not found", { status: 404 });
      }
      for (const [name, value] of Object.entries(requireHeaders)) {
        if (request.headers.get(name) !== value) {
          refused.push(`missing header ${name}`);
          return Response.json({ code: 16, message: "unauthenticated" }, { status: 401 });
        }
      }
      if (!(request.headers.get("content-type") ?? "").startsWith("application/json")) {
        refused.push(`content-type ${request.headers.get("content-type")}`);
        return new Response("unsupported media type", { status: 415 });
      }
      const body = await request.text();
      raw.push(body);
      const parsed = JSON.parse(body) as {
        resourceSpans?: {
          resource?: { attributes?: { key: string; value: AnyValue }[] };
          scopeSpans?: { spans?: (Omit<OtlpSpan, "attributes" | "resource"> & { attributes?: never[] })[] }[];
        }[];
      };
      for (const rs of parsed.resourceSpans ?? []) {
        const resource = attributes(rs.resource?.attributes);
        for (const scope of rs.scopeSpans ?? [])
          for (const span of scope.spans ?? [])
            spans.push({
              ...span,
              parentSpanId: span.parentSpanId || undefined,
              attributes: attributes(span.attributes),
              resource,
            });
      }
      return Response.json({ partialSuccess: {} });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, spans, raw, refused, stop: () => server.stop(true) };
}
