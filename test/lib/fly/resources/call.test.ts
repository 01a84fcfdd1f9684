/** lib/fly/resources/call.ts: the shared caller every resource module is lent. @module */
import { describe, expect, test } from "bun:test";
import { invalidResponse, isAmbiguous, parseJson, safeExpand } from "../../../../lib/fly/resources/call.ts";
import { FlyApiError } from "../../../../lib/fly/errors.ts";

const reply = (text: string) => ({ status: 200, headers: new Headers(), text, requestId: "r1", attempts: 2 });

describe("call", () => {
  test("parseJson: a body that is not JSON is invalid_response with the call's path, status and request id", () => {
    expect(parseJson(reply('{"a":1}'), "getApp", { app_name: "web" })).toEqual({ a: 1 });
    const error = (() => {
      try {
        parseJson(reply("<html>"), "getApp", { app_name: "web" });
      } catch (e) {
        return e as FlyApiError;
      }
    })();
    expect(error).toBeInstanceOf(FlyApiError);
    expect([error!.code, error!.method, error!.path, error!.requestId, error!.attempts]).toEqual([
      "invalid_response",
      "GET",
      "/v1/apps/web",
      "r1",
      2,
    ]);
    expect(error!.apiMessage).toBe("<html>");
  });

  test("invalidResponse and safeExpand keep the template when a parameter is missing", () => {
    expect(safeExpand("/v1/apps/{app_name}", {})).toBe("/v1/apps/{app_name}");
    expect(safeExpand("/v1/apps/{app_name}", { app_name: "a b" })).toBe("/v1/apps/a%20b");
    expect(invalidResponse(reply(""), "getMachine", { app_name: "web" }, "x").path).toBe(
      "/v1/apps/{app_name}/machines/{machine_id}",
    );
  });

  test("isAmbiguous: failures after which the request may have taken effect", () => {
    const e = (status: number, code: ConstructorParameters<typeof FlyApiError>[0]["code"]) =>
      new FlyApiError({ code, method: "POST", path: "/x", status });
    expect(isAmbiguous(e(0, "network_error"))).toBe(true);
    expect(isAmbiguous(e(0, "timeout"))).toBe(true);
    expect(isAmbiguous(e(408, "request_timeout"))).toBe(true);
    expect(isAmbiguous(e(502, "server_error"))).toBe(true);
    expect(isAmbiguous(e(429, "rate_limited"))).toBe(false);
    expect(isAmbiguous(e(422, "unprocessable"))).toBe(false);
  });
});
