/**
 * A fake Sentry ingest: a real HTTP server that takes envelopes as Sentry's relay does
 * (https://develop.sentry.dev/sdk/data-model/envelopes/): POST /api/<project>/envelope/, authenticated by the
 * X-Sentry-Auth header's sentry_key or a `sentry_key` query parameter; the body is newline-delimited: an
 * envelope header, then for each item an item header and a payload (of `length` bytes when the header gives
 * one, else up to the next newline). It keeps every raw body (to search for leaked secrets) and every item.
 * @module
 */

export interface EnvelopeItem {
  header: { type: string; length?: number; [key: string]: unknown };
  payload: any;
}
export interface Envelope {
  header: Record<string, unknown>;
  items: EnvelopeItem[];
  raw: string;
}

export interface FakeSentry {
  dsn: string;
  envelopes: Envelope[];
  events(): any[];
  /** Requests refused (bad auth, bad envelope), with the reason. */
  refused: string[];
  stop(): void;
}

export function parseEnvelope(raw: string): Envelope {
  const bytes = new TextEncoder().encode(raw);
  const decoder = new TextDecoder();
  let at = 0;
  const line = () => {
    let end = bytes.indexOf(10, at);
    if (end === -1) end = bytes.length;
    const text = decoder.decode(bytes.subarray(at, end));
    at = end + 1;
    return text;
  };
  const header = JSON.parse(line());
  const items: EnvelopeItem[] = [];
  while (at < bytes.length) {
    const headerLine = line();
    if (headerLine.trim() === "") continue;
    const itemHeader = JSON.parse(headerLine);
    let payloadText: string;
    if (typeof itemHeader.length === "number") {
      payloadText = decoder.decode(bytes.subarray(at, at + itemHeader.length));
      at += itemHeader.length + 1;
    } else {
      payloadText = line();
    }
    items.push({ header: itemHeader, payload: JSON.parse(payloadText) });
  }
  return { header, items, raw };
}

export function startFakeSentry(projectId = "4242", publicKey = "fakepublickey0123"): FakeSentry {
  const envelopes: Envelope[] = [];
  const refused: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method !== "POST" || url.pathname !== `/api/${projectId}/envelope/`) {
        refused.push(`${request.method} ${url.pathname}`);
        return new Response("not found", { status: 404 });
      }
      const auth = request.headers.get("x-sentry-auth") ?? "";
      const key = /sentry_key=([^,\s]+)/.exec(auth)?.[1] ?? url.searchParams.get("sentry_key");
      if (key !== publicKey) {
        refused.push("bad sentry_key");
        return Response.json({ detail: "bad sentry_key" }, { status: 401 });
      }
      const raw = await request.text();
      try {
        const envelope = parseEnvelope(raw);
        envelopes.push(envelope);
        return Response.json({ id: envelope.header.event_id });
      } catch (error) {
        refused.push(`unparseable envelope: ${(error as Error).message}`);
        return Response.json({ detail: "invalid envelope" }, { status: 400 });
      }
    },
  });
  return {
    dsn: `http://${publicKey}@127.0.0.1:${server.port}/${projectId}`,
    envelopes,
    events: () => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === "event").map((i) => i.payload)),
    refused,
    stop: () => server.stop(true),
  };
}
