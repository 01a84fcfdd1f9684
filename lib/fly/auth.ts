/**
 * How flyctl turns FLY_API_TOKEN into an Authorization header (fly-go tokens/tokens.go: Parse, normalized,
 * StripAuthorizationScheme). Macaroon tokens (prefix before "_" is fm1r, fm1a or fm2) go as `FlyV1 <macaroons
 * joined by ",">`; anything else is an OAuth-style user token sent as `Bearer <token>`. `fly tokens create`
 * prints tokens already prefixed with "FlyV1 ", so a pasted scheme is stripped first.
 * @module
 */

const MACAROON_PREFIXES = new Set(["fm1r", "fm1a", "fm2"]);

/** Removes any leading `Bearer ` / `FlyV1 ` schemes (case-insensitive, repeated), as fly-go does. */
export function stripAuthorizationScheme(token: string): string {
  let rest = token.trim();
  for (;;) {
    const space = rest.indexOf(" ");
    if (space < 0) return rest;
    const scheme = rest.slice(0, space).trim().toLowerCase();
    if (scheme !== "bearer" && scheme !== "flyv1") return rest;
    rest = rest.slice(space + 1).trim();
  }
}

export function isMacaroon(token: string): boolean {
  const underscore = token.indexOf("_");
  return underscore > 0 && MACAROON_PREFIXES.has(token.slice(0, underscore));
}

/** The `Authorization` header value flyctl would send to the Machines API for this token. */
export function authorizationHeader(rawToken: string): string {
  const parts = stripAuthorizationScheme(rawToken)
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  const macaroons = parts.filter(isMacaroon);
  // When macaroons are present flyctl sends only them (user tokens are for GraphQL).
  if (macaroons.length > 0) return `FlyV1 ${macaroons.join(",")}`;
  return `Bearer ${parts.join(",")}`;
}
