/**
 * One error type for the image boundary: building layers, talking to a registry.
 * It carries what an operator needs to act (code, registry, status, the registry's own message)
 * and never a credential: messages are built from statuses and registry error bodies only.
 */
export type ImageErrorCode =
  | "registry_unauthorized" // 401 after the auth flow: wrong or missing token
  | "registry_denied" // 403: token valid but not allowed on this repository
  | "registry_not_found" // 404 on a manifest/blob we need
  | "registry_unavailable" // 5xx / 429 after all retries
  | "registry_network" // connection refused/reset/timeout after all retries
  | "registry_protocol" // the registry answered something the distribution spec does not allow
  | "digest_mismatch" // downloaded bytes do not hash to the digest they were fetched by
  | "base_platform_missing" // the base index has no linux/amd64 manifest
  | "dependency_install_failed" // bun install into the staging folder failed
  | "invalid_reference" // an image reference we cannot parse
  | "invalid_input"; // bad option or unreadable project file

export class ImageError extends Error {
  override readonly name = "ImageError";
  readonly code: ImageErrorCode;
  readonly registry?: string;
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  /** `errors[].code` values from the registry's JSON body (e.g. DENIED, BLOB_UNKNOWN). */
  readonly registryCodes: string[];

  constructor(
    code: ImageErrorCode,
    message: string,
    context: {
      registry?: string;
      status?: number;
      method?: string;
      path?: string;
      registryCodes?: string[];
      cause?: unknown;
    } = {},
  ) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.registry = context.registry;
    this.status = context.status;
    this.method = context.method;
    this.path = context.path;
    this.registryCodes = context.registryCodes ?? [];
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      registry: this.registry,
      status: this.status,
      method: this.method,
      path: this.path,
      registryCodes: this.registryCodes,
    };
  }
}
