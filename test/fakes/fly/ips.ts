// /v1/apps/{app}/ip_assignments: flyctl's first deploy allocates `v6` (dedicated) then `shared_v4`
// (deploy_first.go). Shapes per the spec's IPAssignment: `shared` true only for shared_v4, `network` only for
// Flycast (private_v6), `egress` for egress addresses.

import type { AssignIpRequest, IpAssignment } from "../../../lib/fly/types.ts";
import { empty, HttpError, json, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { nowIso, randomHex } from "./state.ts";

let counter = 10;

function address(type: string): string {
  counter += 1;
  switch (type) {
    case "shared_v4":
      return `66.241.124.${counter % 250}`;
    case "v4":
    case "egress_v4":
      return `137.66.${counter % 250}.${(counter * 7) % 250}`;
    case "private_v6":
      return `fdaa:0:1:0:1::${randomHex(4)}`;
    default:
      return `2a09:8280:1::${randomHex(2)}:${randomHex(4)}`;
  }
}

export function ipRoutes(ctx: FakeContext): Route[] {
  const base = "/v1/apps/:app/ip_assignments";
  return [
    {
      method: "GET",
      path: base,
      handle: ({ app }) => json({ ips: app!.ips.map((ip) => ({ ...ip })) }),
    },
    {
      method: "POST",
      path: base,
      handle: ({ app, body }) => {
        const a = app!;
        const input = validBody<AssignIpRequest>(ctx, "assignIPRequest", body);
        if (!input.type) throw new HttpError(400, "type is required");
        if (input.type === "shared_v4") {
          const existing = a.ips.find((ip) => ip.shared);
          if (existing) return json({ ...existing });
        }
        if (input.type === "egress_pair") {
          const pair = { v4: address("egress_v4"), v6: address("egress_v6") };
          for (const ip of [pair.v4, pair.v6])
            a.ips.push({ ip, region: input.region ?? "", shared: false, egress: true, created_at: nowIso() });
          return json({ region: input.region ?? "", shared: false, egress: true, created_at: nowIso(), ip_pair: pair });
        }
        const assignment: IpAssignment = {
          ip: address(input.type),
          region: input.region ?? "",
          shared: input.type === "shared_v4",
          egress: input.type.startsWith("egress"),
          created_at: nowIso(),
          ...(input.service_name ? { service_name: input.service_name } : {}),
          ...(input.type === "private_v6"
            ? { network: { name: input.network ?? "", org_slug: input.org_slug ?? a.orgSlug } }
            : {}),
        };
        a.ips.push(assignment);
        return json({ ...assignment });
      },
    },
    {
      method: "DELETE",
      path: `${base}/:ip`,
      handle: ({ app, params }) => {
        const a = app!;
        const index = a.ips.findIndex((ip) => ip.ip === params.ip);
        if (index < 0) throw new HttpError(404, `ip assignment not found: ${params.ip}`);
        a.ips.splice(index, 1);
        return empty(204);
      },
    },
  ];
}
