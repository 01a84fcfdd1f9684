/**
 * Fly's deployable regions, shipped with the project so `primary_region = "xyz"` is caught before any API call, with
 * a suggestion for a near miss. Source: superfly/docs `reference/regions.html.markerb`, "Fly.io Regions" table, as of
 * docs commit 1d7355d802855346d501f4e0cef9f1fb4c6381f1 (2025-10-28; unchanged in the 2026-08-07 snapshot). The
 * October 2025 docs change (#2273) removed the regions Fly deprecated (atl, bog, bos, den, ...). Regions Fly adds
 * later are accepted with `allowed` (the caller's flag or env), because this list can lag behind Fly.
 *
 * @module
 */

export const FLY_REGIONS_SOURCE = {
  url: "https://fly.io/docs/reference/regions/",
  file: "superfly/docs reference/regions.html.markerb",
  commit: "1d7355d802855346d501f4e0cef9f1fb4c6381f1",
  date: "2025-10-28",
} as const;

export const FLY_REGIONS: Readonly<Record<string, string>> = {
  ams: "Amsterdam, Netherlands",
  arn: "Stockholm, Sweden",
  bom: "Mumbai, India",
  cdg: "Paris, France",
  dfw: "Dallas, Texas (US)",
  ewr: "Secaucus, NJ (US)",
  fra: "Frankfurt, Germany",
  gru: "Sao Paulo, Brazil",
  iad: "Ashburn, Virginia (US)",
  jnb: "Johannesburg, South Africa",
  lax: "Los Angeles, California (US)",
  lhr: "London, United Kingdom",
  nrt: "Tokyo, Japan",
  ord: "Chicago, Illinois (US)",
  sin: "Singapore, Singapore",
  sjc: "San Jose, California (US)",
  syd: "Sydney, Australia",
  yyz: "Toronto, Canada",
};

/** Positions where two 3-letter codes differ, plus one for a swap of neighbours counted as a single edit. */
function distance(a: string, b: string): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  const swapped = d === 2 && [...a].sort().join("") === [...b].sort().join("");
  return swapped ? 1 : d;
}

export type RegionCheck = { ok: true } | { ok: false; message: string; suggestion?: string };

/**
 * Whether `code` is a Fly region. `allowed` lists codes to accept although the shipped list lacks them (a region
 * newer than the list). The message says what to do: the near miss, or how to accept a new region.
 */
export function checkRegion(code: string, allowed: readonly string[] = [], allowHow = "--allow-region"): RegionCheck {
  if (FLY_REGIONS[code] !== undefined || allowed.includes(code)) return { ok: true };
  const near = Object.keys(FLY_REGIONS)
    .map((r) => ({ r, d: distance(code.toLowerCase(), r) }))
    .filter((x) => x.d <= 1)
    .sort((x, y) => x.d - y.d || x.r.localeCompare(y.r))[0]?.r;
  const lower = code.toLowerCase();
  const suggestion = FLY_REGIONS[lower] !== undefined ? lower : near;
  const hint = suggestion ? `did you mean "${suggestion}" (${FLY_REGIONS[suggestion]})? ` : "";
  return {
    ok: false,
    message: `"${code}" is not a Fly region (list of ${FLY_REGIONS_SOURCE.date}, ${FLY_REGIONS_SOURCE.url}); ${hint}if Fly has added it since, accept it with ${allowHow} ${code}`,
    ...(suggestion ? { suggestion } : {}),
  };
}
