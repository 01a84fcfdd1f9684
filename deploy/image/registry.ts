import { basicHeader, parseChallenge, type RegistryCredentials } from "./auth.ts";
import { ImageError } from "./errors.ts";
import { sha256 } from "./layer.ts";

/**
 * A client for one registry host speaking the OCI distribution API
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
 * It owns auth (Basic, or the Bearer token flow when challenged), retries with backoff on 5xx/429 and
 * dropped connections, and turns every failure into an ImageError that never contains a credential.
 */
export interface RegistryClientOptions {
  /** host[:port], e.g. "registry.fly.io" or "127.0.0.1:5000". */
  registry: string;
  credentials?: RegistryCredentials;
  /** Plain HTTP; defaults to true for loopback hosts only. */
  insecure?: boolean;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

export interface ManifestResponse {
  mediaType: string;
  digest: string;
  bytes: Uint8Array;
}

export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

interface RequestOptions {
  body?: Uint8Array;
  headers?: Record<string, string>;
  /** Retry this request on 5xx/network errors (false for a PATCH in the middle of an upload session). */
  retry?: boolean;
  /** Statuses the caller handles itself (e.g. 404 for HEAD). */
  accept?: number[];
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly credentials?: RegistryCredentials;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private authorization?: string;
  private readonly scopes = new Set<string>();

  constructor(opts: RegistryClientOptions) {
    this.registry = opts.registry;
    const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(opts.registry);
    this.baseUrl = `${(opts.insecure ?? loopback) ? "http" : "https"}://${opts.registry}`;
    this.credentials = opts.credentials;
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    // registry.fly.io takes Basic x:<token> directly (as flyctl sends it), so send it up front and save
    // a round trip; a registry that wants Bearer answers 401 with its challenge and we follow that.
    if (this.credentials) this.authorization = basicHeader(this.credentials);
  }

  /** Ask for these scopes in every token (e.g. pull on the repository we mount from). */
  addScope(repository: string, actions: "pull" | "pull,push") {
    const pushKey = `repository:${repository}:pull,push`;
    if (actions === "pull" && this.scopes.has(pushKey)) return;
    if (actions === "pull,push") this.scopes.delete(`repository:${repository}:pull`);
    this.scopes.add(`repository:${repository}:${actions}`);
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, { accept: [404] });
    return res.status === 200;
  }

  async getBlob(repository: string, digest: string): Promise<Uint8Array<ArrayBuffer>> {
    const res = await this.request("GET", `/v2/${repository}/blobs/${digest}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (sha256(bytes) !== digest) {
      throw new ImageError(
        "digest_mismatch",
        `blob ${digest} from ${this.registry}/${repository} does not match its digest`,
        {
          registry: this.registry,
          path: `/v2/${repository}/blobs/${digest}`,
        },
      );
    }
    return bytes;
  }

  /**
   * Cross-repository mount (POST ...?mount=&from=): the registry links a blob it already holds into
   * this repository without any bytes moving. 201 means mounted; 202 means it declined and opened an
   * ordinary upload session instead, which we return so the caller can use it.
   */
  async mountBlob(
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.request("POST", `/v2/${repository}/blobs/uploads/?${q}`, { accept: [201, 202] });
    await res.body?.cancel();
    if (res.status === 201) return { mounted: true };
    return { mounted: false, location: this.location(res, `/v2/${repository}/blobs/uploads/`) };
  }

  /**
   * Upload a blob: one PUT when it fits in a chunk, otherwise PATCH chunks with Content-Range and a
   * closing PUT?digest=. A failure mid-session restarts the whole blob on a fresh session, because a
   * half-applied PATCH cannot be retried safely. Returns the bytes sent on the successful attempt.
   */
  async uploadBlob(
    repository: string,
    digest: string,
    data: Uint8Array,
    opts: { chunkSize?: number; location?: string } = {},
  ): Promise<number> {
    const chunkSize = opts.chunkSize ?? 16 * 1024 * 1024;
    let location = opts.location;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!location) {
          const res = await this.request("POST", `/v2/${repository}/blobs/uploads/`, { accept: [202] });
          await res.body?.cancel();
          location = this.location(res, `/v2/${repository}/blobs/uploads/`);
        }
        if (data.length > chunkSize) {
          for (let offset = 0; offset < data.length; offset += chunkSize) {
            const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.length));
            const res = await this.request("PATCH", location, {
              body: chunk,
              retry: false,
              accept: [202],
              headers: {
                "content-type": "application/octet-stream",
                "content-range": `${offset}-${offset + chunk.length - 1}`,
              },
            });
            await res.body?.cancel();
            location = this.location(res, location);
          }
          const res = await this.request("PUT", withQuery(location, { digest }), { retry: false, accept: [201] });
          await res.body?.cancel();
        } else {
          const res = await this.request("PUT", withQuery(location, { digest }), {
            body: data,
            retry: false,
            accept: [201],
            headers: { "content-type": "application/octet-stream" },
          });
          await res.body?.cancel();
        }
        return data.length;
      } catch (err) {
        location = undefined;
        const retryable =
          err instanceof ImageError &&
          (err.code === "registry_unavailable" ||
            err.code === "registry_network" ||
            err.registryCodes.includes("BLOB_UPLOAD_UNKNOWN"));
        if (!retryable || attempt >= this.retries) throw err;
        await sleep(this.backoff(attempt));
      }
    }
  }

  async getManifest(repository: string, reference: string): Promise<ManifestResponse> {
    const res = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new ImageError(
        "digest_mismatch",
        `manifest ${reference} from ${this.registry}/${repository} does not match its digest`,
        {
          registry: this.registry,
        },
      );
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim() || parseMediaType(bytes);
    return { mediaType, digest, bytes };
  }

  async hasManifest(repository: string, reference: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/manifests/${reference}`, {
      accept: [404],
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
    });
    return res.status === 200;
  }

  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const res = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      body: bytes,
      accept: [201],
      headers: { "content-type": mediaType },
    });
    await res.body?.cancel();
    const digest = sha256(bytes);
    const echoed = res.headers.get("docker-content-digest");
    if (echoed && echoed !== digest) {
      throw new ImageError("registry_protocol", `registry stored manifest as ${echoed}, expected ${digest}`, {
        registry: this.registry,
      });
    }
    return digest;
  }

  /** One HTTP exchange with auth and retries; any status outside 2xx/`accept` becomes an ImageError. */
  private async request(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const path = new URL(url).pathname;
    const scopeRepo = /^\/v2\/(.+?)\/(?:blobs|manifests)\//.exec(path)?.[1];
    if (scopeRepo) this.addScope(scopeRepo, method === "GET" || method === "HEAD" ? "pull" : "pull,push");
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        const headers: Record<string, string> = { ...opts.headers };
        if (this.authorization) headers.authorization = this.authorization;
        res = await fetch(url, {
          method,
          headers,
          body: opts.body,
          redirect: "follow",
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (cause) {
        if (opts.retry !== false && attempt < this.retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw new ImageError(
          "registry_network",
          `${method} ${path} on ${this.registry} failed: ${describeNetworkError(cause)}`,
          {
            registry: this.registry,
            method,
            path,
            cause,
          },
        );
      }
      if (res.status === 401 && !authRetried) {
        authRetried = true;
        const challenge = parseChallenge(res.headers.get("www-authenticate"));
        await res.body?.cancel();
        if (await this.answerChallenge(challenge, method, path)) {
          attempt--;
          continue;
        }
        throw await this.statusError(res, method, path);
      }
      if (res.ok || opts.accept?.includes(res.status)) return res;
      if (RETRYABLE.has(res.status) && opts.retry !== false && attempt < this.retries) {
        await res.body?.cancel();
        await sleep(this.backoff(attempt, res.headers.get("retry-after")));
        continue;
      }
      throw await this.statusError(res, method, path);
    }
  }

  /** Returns true when new credentials were obtained and the request is worth repeating. */
  private async answerChallenge(
    challenge: ReturnType<typeof parseChallenge>,
    method: string,
    path: string,
  ): Promise<boolean> {
    if (!challenge) return false;
    if (challenge.scheme === "basic") {
      if (!this.credentials || this.authorization?.startsWith("Basic")) return false;
      this.authorization = basicHeader(this.credentials);
      return true;
    }
    if (challenge.scope) for (const s of challenge.scope.split(" ")) if (s) this.scopes.add(s);
    const tokenUrl = new URL(challenge.realm);
    if (challenge.service) tokenUrl.searchParams.set("service", challenge.service);
    for (const scope of this.scopes) tokenUrl.searchParams.append("scope", scope);
    let res: Response;
    try {
      res = await fetch(tokenUrl, {
        headers: this.credentials ? { authorization: basicHeader(this.credentials) } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new ImageError(
        "registry_network",
        `token request to ${tokenUrl.host} for ${method} ${path} failed: ${describeNetworkError(cause)}`,
        {
          registry: this.registry,
          method,
          path,
          cause,
        },
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ImageError(
        res.status === 401 ? "registry_unauthorized" : res.status === 403 ? "registry_denied" : "registry_unavailable",
        `token service ${tokenUrl.host} refused ${this.credentials ? "the configured credentials" : "anonymous access"} (HTTP ${res.status}) for ${method} ${path}`,
        { registry: this.registry, status: res.status, method, path },
      );
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw new ImageError("registry_protocol", `token service ${tokenUrl.host} answered without a token`, {
        registry: this.registry,
      });
    this.authorization = `Bearer ${token}`;
    return true;
  }

  private async statusError(res: Response, method: string, path: string): Promise<ImageError> {
    const text = await res.text().catch(() => "");
    let registryCodes: string[] = [];
    let detail = "";
    try {
      const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      registryCodes = (body.errors ?? []).map((e) => e.code ?? "").filter(Boolean);
      detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    } catch {
      detail = text.slice(0, 200).replace(/\s+/g, " ").trim();
    }
    const code =
      res.status === 401
        ? "registry_unauthorized"
        : res.status === 403
          ? "registry_denied"
          : res.status === 404
            ? "registry_not_found"
            : res.status >= 500 || res.status === 429
              ? "registry_unavailable"
              : "registry_protocol";
    const hint =
      code === "registry_unauthorized"
        ? this.credentials
          ? " (check the registry token, e.g. FLY_API_TOKEN)"
          : " (no credentials were configured for this registry)"
        : code === "registry_unavailable"
          ? ` (gave up after ${this.retries + 1} attempts)`
          : "";
    return new ImageError(
      code,
      `${method} ${path} on ${this.registry}: HTTP ${res.status}${detail ? ` ${detail}` : ""}${hint}`,
      {
        registry: this.registry,
        status: res.status,
        method,
        path,
        registryCodes,
      },
    );
  }

  private location(res: Response, fallbackBase: string): string {
    const loc = res.headers.get("location");
    if (!loc) {
      throw new ImageError("registry_protocol", `${this.registry} opened an upload without a Location header`, {
        registry: this.registry,
      });
    }
    return new URL(loc, new URL(fallbackBase, this.baseUrl)).toString();
  }

  private backoff(attempt: number, retryAfter?: string | null): number {
    const hinted = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
    const exp = Math.min(this.backoffMs * 2 ** attempt, 5_000);
    return Math.max(hinted, exp / 2 + Math.random() * (exp / 2));
  }
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

function parseMediaType(bytes: Uint8Array): string {
  try {
    return (JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }).mediaType ?? "";
  } catch {
    return "";
  }
}

function describeNetworkError(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code;
    return code ? `${code} (${cause.message})` : cause.message;
  }
  return String(cause);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
