/**
 * One raw HTTP/1.1 keep-alive connection that tells apart what fetch() blurs: a request that was never
 * sent (connection refused, or the server had already closed this idle connection) from a request that was
 * written and got no full response (lost). Only the first kind may be retried without knowing whether the
 * server acted on it, which is how the shutdown tests count honestly. Responses must carry Content-Length
 * (every route of the service does for these tests' requests); no pipelining.
 * @module
 */
import { connect, type Socket } from "node:net";

export type Outcome =
  | { kind: "response"; status: number; headers: Record<string, string>; body: Buffer; closing: boolean }
  /** Nothing was sent: the server had closed this connection (FIN or reset) while it was idle. */
  | { kind: "closed-before-send" }
  /** The request was written; the connection ended before a full response. */
  | { kind: "lost"; reason: string };

export class Http1Connection {
  private buffered = Buffer.alloc(0);
  private ended: string | undefined;
  private pending: ((outcome: Outcome) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.tryComplete();
    });
    socket.on("end", () => this.finish("server closed the connection (FIN)"));
    socket.on("error", (error: NodeJS.ErrnoException) => this.finish(`socket error ${error.code ?? error.message}`));
    socket.on("close", () => this.finish("connection closed"));
  }

  /** Connects; "refused" means nothing was sent (the port is closed or the listener went away). */
  static open(port: number, host = "127.0.0.1"): Promise<Http1Connection | "refused"> {
    return new Promise((resolve) => {
      const socket = connect({ port, host, noDelay: true });
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        resolve(new Http1Connection(socket));
      });
      socket.once("error", () => resolve("refused"));
    });
  }

  /** False once the server has closed it or a response said `Connection: close`. */
  get usable(): boolean {
    return this.ended === undefined;
  }

  /** Writes one request (`GET path` unless a full request head is given) and waits for its whole response. */
  send(path: string, headers: Record<string, string> = {}): Promise<Outcome> {
    if (this.ended !== undefined) return Promise.resolve({ kind: "closed-before-send" });
    if (this.pending) throw new Error("Http1Connection does not pipeline: one request at a time");
    const lines = [`GET ${path} HTTP/1.1`, "Host: localhost", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
  }

  close(): void {
    this.ended ??= "closed by the client";
    this.socket.destroy();
  }

  private tryComplete(): void {
    if (!this.pending) return;
    const headEnd = this.buffered.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const [statusLine = "", ...headerLines] = this.buffered.subarray(0, headEnd).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? Number.NaN);
    if (!Number.isInteger(length)) {
      this.settle({ kind: "lost", reason: `response without Content-Length: ${statusLine}` });
      return;
    }
    const bodyStart = headEnd + 4;
    if (this.buffered.length < bodyStart + length) return;
    const body = this.buffered.subarray(bodyStart, bodyStart + length);
    this.buffered = this.buffered.subarray(bodyStart + length);
    const closing = /\bclose\b/i.test(headers.connection ?? "");
    if (closing) this.ended = "response said Connection: close";
    this.settle({ kind: "response", status: Number(statusLine.split(" ")[1]), headers, body, closing });
  }

  private finish(reason: string): void {
    this.ended ??= reason;
    this.tryComplete();
    this.settle({ kind: "lost", reason });
  }

  private settle(outcome: Outcome): void {
    const resolve = this.pending;
    this.pending = undefined;
    resolve?.(outcome);
  }
}
