import type { ConfigIssue } from './config-issue';

export type { ConfigIssue };

/** Renders one issue as a single line: `file: path: value problem; expected …. Fix: …`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '' : ` ${issue.path}:`;
  const value = issue.value === undefined ? '' : ` ${issue.value}`;
  return `${issue.file}:${where}${value} ${issue.problem}; expected ${issue.expected}. Fix: ${issue.fix}`;
}

/**
 * Thrown when a `ddk.json` file is unreadable or invalid; carries every issue of the file.
 *
 * The message lists all issues, one per line, so a caller can print it as is.
 */
export class DdkConfigError extends Error {
  /** Marker that survives module duplication (instanceof does not). */
  public static isDdkConfigError(x: unknown): x is DdkConfigError {
    return typeof x === 'object' && x !== null && (x as { name?: unknown }).name === 'DdkConfigError';
  }

  public readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    const n = issues.length;
    super(`${file} is not a valid ddk.json (${n} problem${n === 1 ? '' : 's'}):\n` + issues.map(i => `  - ${formatIssue(i)}`).join('\n'));
    this.name = 'DdkConfigError';
    this.issues = issues;
  }
}

/** Renders a value for an issue: JSON, cut to a readable length. */
export function renderValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Formats a JSON path from its segments: `a.b[0].c`; keys that are not identifiers are quoted. */
export function jsonPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(s))) out += out === '' ? String(s) : `.${String(s)}`;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` (did you mean "${c}"?)`;
}
