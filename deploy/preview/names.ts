// Pure naming rules of pull-request previews: which PR numbers are valid, which Fly app a preview lives in,
// and the marker that proves an app or machine is a preview. Everything that may destroy an app goes
// through `isPreviewOf`, so the rules that keep production safe live in one small, exhaustively tested file.

/**
 * Fly app names: lowercase letters, digits and dashes (Fly docs, "Launch the app"; flyctl's launch UI says
 * "app name must consist of only lowercase letters, numbers, and dashes"). They become the DNS label of
 * `<app>.fly.dev`, so 63 characters at most (RFC 1035; flyctl does not check this, superfly/flyctl#4283,
 * and names past 63 break DNS). No leading or trailing dash, as for any DNS label.
 */
export const FLY_APP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const FLY_APP_NAME_MAX = 63;

/** GitHub issue/PR numbers are positive 32-bit integers in its API. */
export const MAX_PR_NUMBER = 2_147_483_647;

/** Machine metadata key carried by every preview machine; value `previewMarker(base, pr)`. */
export const PREVIEW_MARKER_KEY = "flightdeck_preview";
/** Informational: the GitHub repository the preview was made for, when known. Not used for safety. */
export const PREVIEW_REPOSITORY_KEY = "flightdeck_preview_repository";

export class PreviewNameError extends Error {
  override readonly name = "PreviewNameError";
  constructor(
    readonly code: "invalid_pr" | "invalid_app_name",
    message: string,
  ) {
    super(message);
  }
}

/** A PR number from user input: digits only, 1..MAX_PR_NUMBER. Anything else is refused, never coerced. */
export function parsePrNumber(input: unknown): number {
  const text =
    typeof input === "number"
      ? Number.isInteger(input)
        ? String(input)
        : ""
      : typeof input === "string"
        ? input.trim()
        : "";
  if (!/^[1-9]\d{0,9}$/.test(text)) {
    throw new PreviewNameError(
      "invalid_pr",
      `--pr must be a pull request number (1..${MAX_PR_NUMBER}), got ${JSON.stringify(String(input).slice(0, 40))}`,
    );
  }
  const value = Number(text);
  if (value < 1 || value > MAX_PR_NUMBER) {
    throw new PreviewNameError("invalid_pr", `--pr must be between 1 and ${MAX_PR_NUMBER}, got ${value}`);
  }
  return value;
}

export function assertAppName(name: string, what: string): void {
  if (!FLY_APP_NAME.test(name)) {
    throw new PreviewNameError(
      "invalid_app_name",
      `${what} ${JSON.stringify(name.slice(0, 80))} is not a valid Fly app name: use 1..63 lowercase letters, digits and dashes, not starting or ending with a dash`,
    );
  }
}

/**
 * `<base>-pr-<N>`, the preview app of PR N of the production app `base`. When that is longer than 63
 * characters the base is cut and a 6-hex hash of the full base added (`<cut>-<hash>-pr-<N>`), so the name
 * stays deterministic, unique per base, and still ends in `-pr-<N>`.
 */
export function previewAppName(base: string, pr: number): string {
  assertAppName(base, "the production app name");
  const n = parsePrNumber(pr);
  const suffix = `-pr-${n}`;
  const full = `${base}${suffix}`;
  if (full.length <= FLY_APP_NAME_MAX) return full;
  const hash = new Bun.CryptoHasher("sha256").update(base).digest("hex").slice(0, 6);
  const tail = `-${hash}${suffix}`;
  const cut = base.slice(0, FLY_APP_NAME_MAX - tail.length).replace(/-+$/, "");
  const name = `${cut}${tail}`;
  assertAppName(name, "the shortened preview app name");
  return name;
}

/**
 * The 6PN network a preview app is created in: its own (CreateAppRequest `network`, "machines can't reach
 * other apps of the org over 6PN"), so code from a pull request cannot reach production's private network.
 * Named after the app; being set only at creation, it doubles as the app-level preview marker.
 */
export function previewNetwork(app: string): string {
  return app;
}

/** Value of `flightdeck_preview` on every machine of the preview of PR `pr` of production app `base`. */
export function previewMarker(base: string, pr: number): string {
  return `${base}#${pr}`;
}

export interface PreviewCandidate {
  name: string;
  network?: string;
  machines: { id: string; metadata?: Record<string, string> | null; mounts?: readonly unknown[] | null }[];
}

/**
 * Why `candidate` must not be destroyed as the preview of PR `pr` of `base`, or `undefined` when it may be.
 * All of: the name is exactly the name this PR's preview gets (never `base` itself), the app sits in the
 * preview's own network (set at creation, immutable), and every machine carries this PR's marker and no
 * volume mount (previews have none; production machines all do).
 */
export function whyNotPreview(candidate: PreviewCandidate, base: string, pr: number): string | undefined {
  const expected = previewAppName(base, pr);
  if (candidate.name === base) return `"${candidate.name}" is the production app`;
  if (candidate.name !== expected)
    return `"${candidate.name}" is not the preview app of PR #${pr} (that is "${expected}")`;
  if (!/-pr-\d+$/.test(candidate.name)) return `"${candidate.name}" does not follow the preview naming pattern`;
  if (candidate.network !== previewNetwork(expected)) {
    return `app "${candidate.name}" is not in the preview network "${previewNetwork(expected)}" (network: ${JSON.stringify(candidate.network ?? null)}), so it was not created as a preview`;
  }
  const marker = previewMarker(base, pr);
  for (const machine of candidate.machines) {
    const value = machine.metadata?.[PREVIEW_MARKER_KEY];
    if (value !== marker) {
      return `machine ${machine.id} of "${candidate.name}" does not carry ${PREVIEW_MARKER_KEY}=${marker} (has ${JSON.stringify(value ?? null)})`;
    }
    if (machine.mounts && machine.mounts.length > 0)
      return `machine ${machine.id} of "${candidate.name}" has a volume mounted; previews never do`;
  }
  return undefined;
}

/** The PR number an app name belongs to, if it is exactly a preview name of `base`. */
export function prOfPreviewApp(name: string, base: string): number | undefined {
  const match = /-pr-([1-9]\d{0,9})$/.exec(name);
  if (!match) return undefined;
  let pr: number;
  try {
    pr = parsePrNumber(match[1]);
  } catch {
    return undefined;
  }
  return previewAppName(base, pr) === name ? pr : undefined;
}
