/**
 * A violation of a documented AWS contract found in a synthesized template.
 */
export interface Finding {
  /** The contract, e.g. `codepipeline.configuration-value-length`. */
  readonly contract: string;
  /** The stack (construct path) the finding is in. */
  readonly stack: string;
  /** Where in the template: logical id and property path. */
  readonly where: string;
  /** What is wrong, with the value and the documented limit. */
  readonly message: string;
  /**
   * The template file, when the finding comes from a tool that reads files (the guard rules).
   *
   * @default - not recorded
   */
  readonly templateFile?: string;
}

/** One line per finding: `[contract] stack: where: message`. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map(f => `[${f.contract}] ${f.stack}: ${f.where}: ${f.message}`).join('\n');
}

/** A short value for messages: strings quoted and cut at `max` characters. */
export function show(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Collects findings of one contract in one stack. */
export class FindingSink {
  public readonly findings: Finding[] = [];
  constructor(private readonly stack: string) {}

  /** Records a finding. */
  public add(contract: string, where: string, message: string): void {
    this.findings.push({ contract, stack: this.stack, where, message });
  }
}
