// Machine leases (fly-machines-api.md §5.6): POST lease takes it (201) or, with the holder's nonce, extends
// it; a second acquirer gets 409; DELETE with the nonce releases it. The response is wrapped as the docs and
// fly-go show it (`{status:"success", data:{…}}`) unless the fake is told to answer flat, as the spec says.

import type { CreateLeaseRequest } from "../../../lib/fly/types.ts";
import { HttpError, json, requireMachine, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { randomHex, type FakeLease, type FakeMachine } from "./state.ts";

export function activeLease(machine: FakeMachine): FakeLease | undefined {
  const lease = machine.lease;
  if (!lease) return undefined;
  if (lease.expires_at * 1000 <= Date.now()) {
    machine.lease = undefined;
    return undefined;
  }
  return lease;
}

export function newLease(
  ctx: FakeContext,
  machine: FakeMachine,
  ttlSeconds: number,
  description: string,
  owner = ctx.options.leaseOwner,
): FakeLease {
  return {
    nonce: randomHex(32),
    owner,
    description,
    expires_at: Math.floor(Date.now() / 1000) + ttlSeconds,
    version: machine.version,
  };
}

function leaseBody(ctx: FakeContext, lease: FakeLease): unknown {
  const data = { ...lease };
  return ctx.options.leaseResponseShape === "flat" ? data : { status: "success", data };
}

export function leaseRoutes(ctx: FakeContext): Route[] {
  const path = "/v1/apps/:app/machines/:machine/lease";
  return [
    {
      method: "GET",
      path,
      handle: ({ app, params }) => {
        const lease = activeLease(requireMachine(app!, params.machine!));
        if (!lease) throw new HttpError(404, "lease not found");
        // The holder's nonce is a secret of the holder: not shown to others.
        return json(leaseBody(ctx, { ...lease, nonce: "" }));
      },
    },
    {
      method: "POST",
      path,
      handle: ({ app, params, body, query, nonce }) => {
        const machine = requireMachine(app!, params.machine!);
        if (machine.state === "destroyed")
          throw new HttpError(412, `failed_precondition: machine ${machine.id} is destroyed`);
        const input = validBody<CreateLeaseRequest>(ctx, "CreateLeaseRequest", body);
        // fly-go passes ttl as a query parameter, docs/spec as the body: accept both.
        const ttl = input.ttl ?? (query.get("ttl") ? Number(query.get("ttl")) : 30);
        if (!Number.isInteger(ttl) || ttl < 1) throw new HttpError(400, `invalid ttl ${ttl}: want whole seconds >= 1`);
        const current = activeLease(machine);
        if (current && current.nonce !== nonce) {
          const expires = new Date(current.expires_at * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
          throw new HttpError(
            409,
            `aborted: machine ID ${machine.id} lease currently held by ${current.owner}, expires at ${expires}`,
          );
        }
        if (current) {
          current.expires_at = Math.floor(Date.now() / 1000) + ttl;
          if (input.description !== undefined) current.description = input.description;
          return json(leaseBody(ctx, current), 201);
        }
        const lease = newLease(ctx, machine, ttl, input.description ?? "");
        // Refreshing an expired lease with its old nonce re-takes it under the same nonce (nobody else had it).
        if (nonce) lease.nonce = nonce;
        machine.lease = lease;
        return json(leaseBody(ctx, lease), 201);
      },
    },
    {
      method: "DELETE",
      path,
      handle: ({ app, params, nonce }) => {
        const machine = requireMachine(app!, params.machine!);
        const current = activeLease(machine);
        if (!current) throw new HttpError(404, "lease not found");
        if (current.nonce !== nonce) {
          throw new HttpError(
            409,
            `aborted: machine ID ${machine.id} lease currently held by ${current.owner}; the nonce does not match`,
          );
        }
        machine.lease = undefined;
        return json({ status: "success", data: { ok: true } });
      },
    },
  ];
}
