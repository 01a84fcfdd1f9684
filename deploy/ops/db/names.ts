// What `db` names things when the user does not say, and the rules the API states for names it is given
// (spec createPostgresUserRequest / createPostgresDatabaseRequest). Checked here so a bad name is a usage error
// (exit 2, nothing changed) instead of a 422 half-way through an attach.

/** One cluster per app by default: `<app>-db`. */
export function defaultClusterName(app: string): string {
  return `${app}-db`;
}

/**
 * The app's own database and user are named after the app, dashes as underscores (what flyctl's postgres attach
 * did), so they need no quoting in psql.
 */
export function defaultRoleName(app: string): string {
  return app.toLowerCase().replace(/-/g, "_");
}

const USERNAME = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
const DATABASE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/;
const CLUSTER = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A problem with a name, or undefined when the API would take it. */
export function usernameProblem(name: string): string | undefined {
  return USERNAME.test(name)
    ? undefined
    : `--user "${name}": lowercase letters, digits, - and _, starting and ending with a letter or digit, at most 63 characters`;
}

export function databaseProblem(name: string): string | undefined {
  return DATABASE.test(name)
    ? undefined
    : `--database "${name}": letters, digits, - and _, starting and ending with a letter or digit, at most 63 characters`;
}

export function clusterNameProblem(name: string): string | undefined {
  return CLUSTER.test(name)
    ? undefined
    : `--name "${name}": lowercase letters, digits and -, starting and ending with a letter or digit, at most 63 characters`;
}
