/** Kept for deploy/machine-config.ts until the deploy layout lands; the generated types live in generated/. @module */
export type * from "./generated/openapi.ts";
