// Go durations, as flyctl and the Machines API speak them.
//
// fly.toml durations are Go `time.ParseDuration` strings ("10s", "1m30s", "500ms"), and on the wire
// every duration is `time.Duration.String()` output ("10s", "5m0s", "1h0m0s"): fly-go's
// `Duration.MarshalJSON`. We keep durations as milliseconds inside Flightdeck and convert at the edges.

const NS_PER: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu, Go accepts both
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/;

/** Parses a Go duration string into milliseconds; null when it is not one. Negative values are refused. */
export function parseGoDuration(text: string): number | null {
  let rest = text.trim();
  if (rest === "0") return 0;
  if (rest === "" || rest.startsWith("-")) return null;
  if (rest.startsWith("+")) rest = rest.slice(1);
  let ns = 0;
  let terms = 0;
  while (rest.length > 0) {
    const m = TERM.exec(rest);
    if (!m) return null;
    const num = m[1] ?? "";
    const unit = m[2] ?? "";
    if (num === "" || num === ".") return null;
    ns += Number(num) * (NS_PER[unit] ?? NaN);
    rest = rest.slice(m[0].length);
    terms++;
  }
  if (terms === 0 || !Number.isFinite(ns)) return null;
  return Math.round(ns) / 1e6;
}

function trimFraction(whole: number, frac: number, digits: number): string {
  if (frac === 0) return String(whole);
  const f = String(frac).padStart(digits, "0").replace(/0+$/, "");
  return `${whole}.${f}`;
}

/** Formats milliseconds exactly as Go's `time.Duration.String()` would ("1m30s", "5m0s", "500ms"). */
export function formatGoDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  if (ns < 0) return `-${formatGoDuration(-ms)}`;
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trimFraction(Math.floor(ns / 1e3), ns % 1e3, 3)}µs`;
  if (ns < 1e9) return `${trimFraction(Math.floor(ns / 1e6), ns % 1e6, 6)}ms`;
  const hours = Math.floor(ns / 3600e9);
  const minutes = Math.floor((ns % 3600e9) / 60e9);
  const secNs = ns % 60e9;
  const seconds = `${trimFraction(Math.floor(secNs / 1e9), secNs % 1e9, 9)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
