// The FlyApiError a call failed with, for tests that assert on how it failed (a success is a test failure).
import { FlyApiError } from "../../lib/fly/errors.ts";

export async function flyFailure(promise: Promise<unknown>): Promise<FlyApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FlyApiError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}
