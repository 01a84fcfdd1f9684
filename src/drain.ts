/**
 * Zero-drop shutdown for Bun.serve: on SIGTERM every request already received is answered, and no
 * connection is closed while a request may be on its way to it.
 *
 * Why not just `server.stop(false)` (measured on Bun 1.4.5, see test/src/server-drain.test.ts): it closes the
 * listener and, in the same call, every keep-alive connection that is between two requests. A client that
 * has just written its next request (wrk, the Fly proxy's pooled connections) is such a connection: its
 * request sits unread in the kernel buffer, so the close sends a reset and the request is lost (64 of 64
 * connections under `wrk -c64`). Bun has no call that stops accepting but keeps idle connections open, so the
 * drain makes the busy connections non-idle instead:
 *
 * 1. Hold: requests arriving after SIGTERM are processed at once but their responses wait. A keep-alive
 *    client waits for that response, so its connection stays busy and sends nothing more. The listener stays
 *    open meanwhile: the proxy may keep sending requests here until it learns of the stop (Flightdeck's rolling
 *    deploy cordons a machine before stopping it, but other stops, e.g. by flyctl or by hand, come without
 *    one), and a connection that arrives just as the listener closes is reset by the kernel, request and all.
 * 2. Once nothing has arrived for a quiet window and the requests in flight at SIGTERM have finished (or half
 *    the budget is spent), `stop(false)` closes the listener. Connections still idle now have sent nothing
 *    for the whole window.
 * 3. The held responses go out marked `Connection: close`, so Bun closes each connection after its response
 *    and the client opens its next one elsewhere (or is refused, which every client and proxy can retry:
 *    nothing was sent).
 * 4. Whatever is still open when SHUTDOWN_TIMEOUT_MS runs out is cut (`stop(true)`).
 *
 * A request pipelined behind another on one connection is not covered: Bun 1.4.5 closes a connection when a
 * request arrives while an async response is pending, drain or not (oven-sh/bun#38128).
 * @module
 */
import type { Server } from "bun";

/** How long no request may arrive before the listener closes: well above a client's next-request round trip. */
export const DRAIN_QUIET_MS = 200;
const POLL_MS = 5;

export interface DrainReport {
  /** Requests whose responses were held until the listener closed, then sent with `Connection: close`. */
  held: number;
  /** Milliseconds from the signal to the listener closing. */
  listeningMs: number;
  /** True when connections were still open at the deadline and were cut. */
  cut: boolean;
}

export interface Drain {
  /** The `fetch` for Bun.serve: requests pass straight through until the drain begins. */
  fetch(request: Request): Response | Promise<Response>;
  /** Runs steps 1-4 on `server`; resolves once every connection is closed. */
  run(server: Server<undefined>, timeoutMs: number): Promise<DrainReport>;
}

export function createDrain(handle: (request: Request) => Response | Promise<Response>): Drain {
  let draining = false;
  let held = 0;
  let waiting = 0;
  let lastArrival = 0;
  let release!: () => void;
  const listenerClosed = new Promise<void>((resolve) => {
    release = resolve;
  });

  async function holdResponse(request: Request): Promise<Response> {
    held++;
    lastArrival = performance.now();
    const response = Promise.resolve(handle(request));
    response.catch(() => {}); // awaited below; this only keeps the hold from reporting it as unhandled
    waiting++;
    try {
      await listenerClosed;
    } finally {
      waiting--;
    }
    return markClosing(await response);
  }

  return {
    fetch: (request) => (draining ? holdResponse(request) : handle(request)),

    async run(server, timeoutMs) {
      const started = performance.now();
      const deadline = started + timeoutMs;
      const holdUntil = started + timeoutMs / 2;
      const quietMs = Math.min(DRAIN_QUIET_MS, timeoutMs / 4);
      draining = true;
      lastArrival = started;

      // Requests that arrived before the signal are not held; their connections count as busy until they finish.
      let busy = -1;
      let busyChanged = started;
      for (;;) {
        const now = performance.now();
        const unheld = server.pendingRequests - waiting;
        if (unheld !== busy) {
          busy = unheld;
          busyChanged = now;
        }
        const quiet = busy === 0 && now - lastArrival >= quietMs && now - busyChanged >= quietMs;
        if (quiet || now >= holdUntil) break;
        await Bun.sleep(POLL_MS);
      }

      const closed = server.stop(false);
      const listeningMs = Math.round(performance.now() - started);
      release();
      const cut = await Promise.race([
        closed.then(() => false),
        Bun.sleep(Math.max(0, deadline - performance.now())).then(() => true),
      ]);
      if (cut) await server.stop(true);
      return { held, listeningMs, cut };
    },
  };
}

/** Adds `Connection: close`; a Response with immutable headers (e.g. from `fetch`) is re-wrapped. */
function markClosing(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set("connection", "close");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}
