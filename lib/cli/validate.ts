import { Io, Style } from './io';
import { checkFile, CheckedFile, DEFAULT_FILE } from './project';

/** Options of `validate`. */
export interface ValidateOptions {
  readonly json?: boolean;
}

/** The JSON printed by `validate --json`. */
export interface ValidationReport {
  readonly file: string;
  readonly valid: boolean;
  readonly issues: Array<{ path: string; value?: string; problem: string; expected: string; fix: string }>;
  readonly warnings: string[];
}

/** The report of a checked file. */
export function validationReport(checked: CheckedFile): ValidationReport {
  return {
    file: checked.file,
    valid: checked.issues.length === 0,
    issues: checked.issues.map(i => ({ path: i.path, value: i.value, problem: i.problem, expected: i.expected, fix: i.fix })),
    warnings: checked.warnings,
  };
}

/** Renders a checked file for people: every problem with its path, value, expectation and fix. */
export function renderValidation(checked: CheckedFile, s: Style): string {
  const lines: string[] = [];
  const n = checked.issues.length;
  if (n === 0) {
    const plan = checked.plan!;
    const envs = plan.targets.length;
    lines.push(`${s.green('✔')} ${checked.file} is valid: pipeline ${s.bold(plan.name)}, ${plural(plan.stages.length, 'stage')}, ${plural(envs, 'target environment')}`);
  } else {
    lines.push(`${s.red('✖')} ${checked.file} is not a valid ddk.json (${plural(n, 'problem')}):`);
    checked.issues.forEach((issue, i) => {
      lines.push('');
      lines.push(`  ${i + 1}. ${s.bold(issue.path === '' ? '(the file)' : issue.path)}`);
      if (issue.value !== undefined) lines.push(`     value:    ${issue.value}`);
      lines.push(`     problem:  ${s.red(issue.problem)}`);
      lines.push(`     expected: ${issue.expected}`);
      lines.push(`     fix:      ${s.green(issue.fix)}`);
    });
  }
  for (const w of checked.warnings) lines.push(`${s.yellow('warning:')} ${w}`);
  return `${lines.join('\n')}\n`;
}

/** `validate [file]`: exit 0 when valid, 1 when not. */
export function validateCommand(file: string | undefined, options: ValidateOptions, io: Io): number {
  const checked = checkFile(file ?? DEFAULT_FILE, io.cwd);
  if (options.json) io.out(`${JSON.stringify(validationReport(checked), null, 2)}\n`);
  else io.out(renderValidation(checked, io.style));
  return checked.issues.length === 0 ? 0 : 1;
}

/** `n thing` or `n things`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
