/**
 * The shape of a Fly app name, as the Machines API accepts it (lowercase letters, digits and dashes, starting with
 * a letter or digit, at most 63 characters: a DNS label, since it becomes `<app>.fly.dev`).
 * @module
 */
export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
