// What a preview says on its pull request and in the job summary. Pure: the same inputs give the same text,
// so re-running `preview up` for an unchanged deploy leaves the sticky comment as it is.

export type PreviewStatus = "ready" | "failed" | "removed";

export interface PreviewReport {
  pr: number;
  app: string;
  url: string;
  status: PreviewStatus;
  /** Head commit of the PR, when known. */
  sha?: string;
  image?: string;
  /** Link to the workflow run that produced this state. */
  runUrl?: string;
  /** For `failed`: one line saying what went wrong (never a secret: it comes from our own error messages). */
  error?: string;
}

/** Inline code that cannot break out of its backticks or the table cell it sits in. */
function code(value: string): string {
  const clean = value
    .replace(/[\r\n]+/g, " ")
    .replace(/\|/g, "\\|")
    .slice(0, 300);
  const fence = clean.includes("`") ? "``" : "`";
  return `${fence}${fence === "``" ? ` ${clean} ` : clean}${fence}`;
}

function text(value: string): string {
  // Markdown and HTML that could hide or restyle parts of the comment are neutralised.
  return value
    .replace(/[\r\n]+/g, " ")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[|*_`[\]]/g, (c) => `\\${c}`)
    .slice(0, 500);
}

export function renderPreviewComment(report: PreviewReport): string {
  const lines: string[] = [];
  if (report.status === "ready") {
    lines.push(`### Preview ready`, "", `**${report.url}**`, "");
  } else if (report.status === "failed") {
    lines.push(`### Preview deploy failed`, "", `The last deploy of ${code(report.app)} did not finish.`, "");
    if (report.error) lines.push(`> ${text(report.error)}`, "");
  } else {
    lines.push(
      `### Preview removed`,
      "",
      `The preview app ${code(report.app)} and its machines were destroyed when the pull request closed.`,
      "",
    );
  }
  lines.push("| | |", "|---|---|");
  lines.push(`| App | ${code(report.app)} |`);
  if (report.status !== "removed") lines.push(`| URL | ${report.url} |`);
  if (report.sha) lines.push(`| Commit | ${code(report.sha.slice(0, 12))} |`);
  if (report.image && report.status !== "removed") lines.push(`| Image | ${code(report.image)} |`);
  lines.push(`| Status | ${report.status} |`);
  if (report.runUrl) lines.push("", `[Workflow run](${report.runUrl})`);
  lines.push("", "<sub>Posted by `bun deploy/run.ts preview`. This comment is updated in place.</sub>");
  return lines.join("\n");
}

export function renderStepSummary(report: PreviewReport): string {
  const title =
    report.status === "ready"
      ? `Preview for #${report.pr}: ${report.url}`
      : report.status === "removed"
        ? `Preview for #${report.pr} removed`
        : `Preview for #${report.pr} failed`;
  const rows = [`| App | ${code(report.app)} |`];
  if (report.status !== "removed") rows.push(`| URL | ${report.url} |`);
  if (report.image && report.status !== "removed") rows.push(`| Image | ${code(report.image)} |`);
  if (report.sha) rows.push(`| Commit | ${code(report.sha.slice(0, 12))} |`);
  return [`### ${title}`, "", "| | |", "|---|---|", ...rows, ""].join("\n");
}

/** A link to the current workflow run, from the variables GitHub Actions sets. */
export function runUrlFromEnv(env: Record<string, string | undefined>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  if (!server || !repo || !run || !/^\d+$/.test(run)) return undefined;
  if (!/^https:\/\/[^\s()<>]+$/.test(server) || !/^[\w.-]+\/[\w.-]+$/.test(repo)) return undefined;
  return `${server}/${repo}/actions/runs/${run}`;
}
