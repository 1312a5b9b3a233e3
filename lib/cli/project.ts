import { existsSync, readFileSync } from 'fs';
import { isAbsolute, join, resolve } from 'path';
import { ConfigIssue, DdkConfig } from '../config';
import { DdkConfigError } from '../config/issues';
import { DeliveryPlan, PIPELINE_NAME_VARIABLE } from '../model';
import { CliError } from './io';

/** The file read when a command is given none. */
export const DEFAULT_FILE = 'ddk.json';

/** The outcome of checking a ddk.json file. */
export interface CheckedFile {
  /** The file as given. */
  readonly file: string;
  /** Every problem of the file (empty when valid). */
  readonly issues: ConfigIssue[];
  /** Non-fatal findings (only when the file is valid). */
  readonly warnings: string[];
  /** The validated configuration, when valid. */
  readonly config?: DdkConfig;
  /** Its delivery plan, when valid (plan-level checks, e.g. Gitflow branches, count as issues). */
  readonly plan?: DeliveryPlan;
}

/**
 * Reads and validates a ddk.json file, collecting every problem (never throws for a bad file).
 *
 * @param file path as given on the command line (used in messages)
 * @param cwd folder the path is relative to
 */
export function checkFile(file: string, cwd: string): CheckedFile {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf-8');
  } catch (e: any) {
    return { file, issues: [unreadable(file, path, cwd, e)], warnings: [] };
  }
  let config: DdkConfig;
  try {
    config = DdkConfig.parse(text, file);
  } catch (e) {
    if (DdkConfigError.isDdkConfigError(e)) return { file, issues: e.issues, warnings: [] };
    throw e;
  }
  try {
    // The name the pipeline's builds get (DDK_PIPELINE_NAME), as the default app reads it.
    const plan = DeliveryPlan.fromConfig(config, { recordedName: process.env[PIPELINE_NAME_VARIABLE] || undefined });
    return { file, issues: [], warnings: plan.nameWarning ? [...config.warnings, plan.nameWarning] : config.warnings, config, plan };
  } catch (e) {
    if (DdkConfigError.isDdkConfigError(e)) return { file, issues: e.issues, warnings: config.warnings };
    throw e;
  }
}

/**
 * Why a ddk.json cannot be read, and what to give instead: a folder names the file to pass, a
 * missing file the folder it was looked for in (a relative path is relative to the working
 * directory), a permission error the permissions.
 */
export function unreadable(file: string, path: string, cwd: string, e: any): ConfigIssue {
  const code: string = e?.code ?? e?.message ?? String(e);
  const issue = (problem: string, fix: string, expected = 'the path of a readable ddk.json file') => ({ file, path: '', problem, expected, fix });
  if (code === 'EISDIR') {
    const inside = join(file, DEFAULT_FILE);
    return issue('is a folder, not a file', existsSync(join(path, DEFAULT_FILE))
      ? `pass the file inside it: ${inside}`
      : `pass the path of the ddk.json file itself (there is no ${DEFAULT_FILE} in ${path})`);
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const where = isAbsolute(file) ? '' : ` (looked for ${path}, relative to the working directory ${cwd})`;
    return issue(`does not exist${where}`, file === DEFAULT_FILE
      ? `run the command in the folder that holds ${DEFAULT_FILE}, or pass its path`
      : 'check the path, or pass the path of the ddk.json file (absolute, or relative to the working directory)');
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return issue(`cannot be read (${code}: permission denied)`, `let your user read ${path}, e.g. chmod u+r ${path}`);
  }
  return issue(`cannot be read (${code})`, 'check that the path names a readable file');
}

/** One issue as printed by the CLI (the library's one-line form). */
export function formatIssue(issue: ConfigIssue): string {
  return DdkConfig.formatIssue(issue);
}

/**
 * The delivery plan of a ddk.json file.
 *
 * @throws CliError listing every problem when the file is invalid
 */
export function loadPlan(file: string, cwd: string): { plan: DeliveryPlan; warnings: string[] } {
  const checked = checkFile(file, cwd);
  if (!checked.plan) throw new CliError(invalidMessage(checked));
  return { plan: checked.plan, warnings: checked.warnings };
}

/** `file is not a valid ddk.json (n problems):` followed by one line per problem. */
export function invalidMessage(checked: CheckedFile): string {
  return new DdkConfigError(checked.file, checked.issues).message;
}

/** Options shared by commands that talk to a deployed pipeline. */
export interface PipelineTargetOptions {
  /** Pipeline name; default: the plan's name from the ddk.json. */
  readonly pipeline?: string;
  /** The ddk.json that gives defaults. */
  readonly config?: string;
}

/**
 * The plan of the ddk.json named by `--config` (default ./ddk.json) when it exists and is valid;
 * undefined when it does not exist. An invalid file is an error only when `required`.
 */
export function optionalPlan(options: PipelineTargetOptions, cwd: string, required: boolean): DeliveryPlan | undefined {
  const file = options.config ?? DEFAULT_FILE;
  if (options.config === undefined && !existsSync(resolve(cwd, file))) {
    if (required) throw new CliError(`no --pipeline given and there is no ${file} in ${cwd} to take the pipeline name from. Fix: pass --pipeline <name>, or run in the folder of ddk.json, or pass --config <file>`, 2);
    return undefined;
  }
  try {
    return loadPlan(file, cwd).plan;
  } catch (e) {
    if (!required) return undefined;
    throw new CliError(`no --pipeline given, and the pipeline name cannot be taken from ${file}: ${(e as Error).message}`, 2);
  }
}

/** The pipeline a command works on: `--pipeline`, else the plan's name from ddk.json. */
export function pipelineName(options: PipelineTargetOptions, cwd: string): string {
  if (options.pipeline !== undefined) {
    if (options.pipeline.trim() === '') throw new CliError('--pipeline is empty. Fix: pass the pipeline name', 2);
    return options.pipeline;
  }
  return optionalPlan(options, cwd, true)!.name;
}

/** The pipeline an API command (reviews, release) works on, and its plan when ddk.json describes it. */
export interface CommandTarget<O extends PipelineTargetOptions> {
  readonly pipeline: string;
  /** The plan of ddk.json, only when it is this pipeline's. */
  readonly plan?: DeliveryPlan;
  /** The ddk.json the defaults come from (as given, or the default file). */
  readonly file: string;
  /** The command's options with `config` set to the ddk.json given as argument. */
  readonly options: O;
}

/**
 * The pipeline (`--pipeline`, else the plan's name) and its plan. A ddk.json named on the
 * command line must be valid; the default ./ddk.json may be absent when `--pipeline` is given.
 *
 * @param file the ddk.json argument, if any
 */
export function commandTarget<O extends PipelineTargetOptions>(file: string | undefined, options: O, cwd: string): CommandTarget<O> {
  const withFile: O = { ...options, config: file ?? options.config };
  let plan: DeliveryPlan | undefined;
  if (withFile.config !== undefined) {
    const checked = checkFile(withFile.config, cwd);
    if (!checked.plan) {
      throw new CliError(`${invalidMessage(checked)}\nFix: correct ${withFile.config} (see \`ddk-pipelines validate ${withFile.config}\`), or pass --pipeline <name> without a file`, 2);
    }
    plan = checked.plan;
  } else {
    plan = optionalPlan(withFile, cwd, options.pipeline === undefined);
  }
  const pipeline = options.pipeline !== undefined ? pipelineName(withFile, cwd) : plan!.name;
  return { pipeline, plan: plan?.name === pipeline ? plan : undefined, file: withFile.config ?? DEFAULT_FILE, options: withFile };
}
