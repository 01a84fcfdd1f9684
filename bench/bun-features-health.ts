/**
 * Feature floor for `bun run bench`: /health/live on raw Bun.serve (no framework, no plugins) doing only what
 * every Flightdeck response must do: take the request id from Fly-Request-Id or X-Request-Id (else generate
 * one) and echo it, send the same security, CORS and content headers, and write one access-log line per request,
 * batched to stdout as Flightdeck's logger does. Flightdeck cannot be cheaper than this; comparing both with
 * bare Elysia says how much of the gap is the features themselves and how much is our code.
 * @module
 */
const SAFE_ID = /^[A-Za-z0-9_\-.:=]{1,128}$/;
const headers = new Headers({
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  vary: "Origin",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "content-type": "application/json;charset=utf-8",
});

let pending = "";
let _timer: Timer | undefined;
const flush = () => {
  _timer = undefined;
  process.stdout.write(pending);
  pending = "";
};

Bun.serve({
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  fetch(request) {
    const started = performance.now();
    const incoming = request.headers.get("fly-request-id") ?? request.headers.get("x-request-id");
    const id = incoming && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
    const response = new Response('{"status":"ok"}', { headers });
    response.headers.set("x-request-id", id);
    const ms = Math.round((performance.now() - started) * 100) / 100;
    pending += `{"time":"${new Date().toISOString()}","level":"info","msg":"request","method":"${request.method}","route":"/health/live","status":200,"duration_ms":${ms},"request_id":"${id}"}\n`;
    if (pending.length > 65536) flush();
    else _timer ??= setTimeout(flush, 10);
    return response;
  },
});
