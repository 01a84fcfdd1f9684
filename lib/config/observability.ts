/**
 * The settings that make errors and traces leave the machine: Sentry (SENTRY_DSN, SENTRY_TRACES_SAMPLE_RATE; see
 * src/reporting/) and OpenTelemetry over OTLP/HTTP (src/tracing/). Both are off unless set, and off costs
 * nothing: no module is loaded for either (measured with `bun run bench:reporting`).
 * The OTLP names are OpenTelemetry's own (https://opentelemetry.io/docs/specs/otel/protocol/exporter/ and
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), so a collector's set-up
 * guide applies as written.
 * @module
 */
import type { ConfigProblem } from "../config.ts";
import type { SettingReader } from "./setting-reader.ts";

export interface Observability {
  /** Error reporting (src/reporting/): on when set. */
  sentryDsn: string | undefined;
  /** Share of requests traced to Sentry; 0 (the default) sends errors only. */
  sentryTracesSampleRate: number;
  /** OTLP/HTTP base URL (spans go to `<endpoint>/v1/traces`); tracing is on when set. */
  otelEndpoint: string | undefined;
  /** Headers sent with every export (`key=value,key2=value2`, values URL-encoded), e.g. a collector's API key. */
  otelHeaders: Record<string, string>;
  /** Share of new traces sampled (a traceparent's own decision is kept); OTEL_TRACES_SAMPLER_ARG, default 1. */
  otelSampleRatio: number;
}

export function readObservability(read: SettingReader, problems: ConfigProblem[]): Observability {
  const headers = parseHeaders(read.string("OTEL_EXPORTER_OTLP_HEADERS", ""));
  if (headers === undefined)
    problems.push({
      setting: "OTEL_EXPORTER_OTLP_HEADERS",
      problem: "is not a list of key=value pairs (the value is hidden: it usually holds a key)",
      fix: "write it as name=value,name2=value2 with each value URL-encoded, e.g. x-honeycomb-team=abc123",
    });
  return {
    sentryDsn: read.string("SENTRY_DSN", "") || undefined,
    sentryTracesSampleRate: read.ratio("SENTRY_TRACES_SAMPLE_RATE", 0),
    otelEndpoint: read.string("OTEL_EXPORTER_OTLP_ENDPOINT", "").trim().replace(/\/+$/, "") || undefined,
    otelHeaders: headers ?? {},
    otelSampleRatio: read.ratio("OTEL_TRACES_SAMPLER_ARG", 1),
  };
}

export function checkObservability(config: Observability): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // https://develop.sentry.dev/sdk/overview/#parsing-the-dsn: scheme, public key, host, optional path, project id.
  if (config.sentryDsn !== undefined && !/^https?:\/\/[^@/\s]+@[^/\s]+(\/[^\s]*)?\/\d+\/?$/.test(config.sentryDsn)) {
    problems.push({
      setting: "SENTRY_DSN",
      problem: "is not a Sentry DSN",
      fix: "copy it from Sentry's project settings (Client Keys): https://<key>@<host>/<project id>, or unset it",
    });
  }
  if (config.otelEndpoint !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(config.otelEndpoint)) {
    problems.push({
      setting: "OTEL_EXPORTER_OTLP_ENDPOINT",
      problem: `is not an http(s) URL: ${JSON.stringify(config.otelEndpoint.slice(0, 60))}`,
      fix: "set the collector's OTLP/HTTP base URL, e.g. http://otel-collector.internal:4318 (spans go to /v1/traces)",
    });
  }
  return problems;
}

/** The W3C Baggage-like list OpenTelemetry uses for OTEL_EXPORTER_OTLP_HEADERS; undefined when malformed. */
export function parseHeaders(raw: string): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  for (const part of raw.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    try {
      headers[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return headers;
}
