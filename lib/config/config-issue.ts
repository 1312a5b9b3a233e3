/**
 * One problem found in a `ddk.json` file.
 *
 * Every issue says what is wrong, where (file and JSON path), the value received,
 * what was expected, and how to fix it.
 */
export interface ConfigIssue {
  /** The file the problem is in, as given to the loader. */
  readonly file: string;
  /** JSON path of the offending value, e.g. `environments.prod.account` or `pipeline.stages[1].name`. */
  readonly path: string;
  /**
   * The value found at `path`, rendered as JSON (secrets are redacted).
   *
   * @default - the value is missing
   */
  readonly value?: string;
  /** What is wrong with the value. */
  readonly problem: string;
  /** What was expected instead. */
  readonly expected: string;
  /** How to fix it. */
  readonly fix: string;
}
