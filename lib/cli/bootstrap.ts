import { spawn } from 'child_process';
import { DdkConfig } from '../config';
import { CliError, Io } from './io';
import { partitionOf } from '../config/regions';

/** The policy the CloudFormation execution role of a bootstrapped environment gets by default. */
export const DEFAULT_EXECUTION_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';

/** One `cdk bootstrap` to run: an account and region, and what it trusts. */
export interface BootstrapTarget {
  /** The ddk.json environments this bootstrap serves. */
  readonly environments: string[];
  readonly account: string;
  readonly region: string;
  /**
   * The CICD account trusted to deploy here.
   *
   * @default - trusts no other account (the CICD account itself)
   */
  readonly trust?: string;
  /**
   * CDK bootstrap qualifier (`environments.<id>.bootstrap.qualifier`).
   *
   * @default - the CDK default qualifier
   */
  readonly qualifier?: string;
  /** Why this account and region is bootstrapped. */
  readonly reason: string;
}

/** Options of `bootstrapTargets`. */
export interface BootstrapOptions {
  /** An environment id, or `all` (the default): every environment. */
  readonly environment?: string;
  /** The CICD account to trust; default: `environments.cicd.account`. */
  readonly cicdAccount?: string;
}

const ACCOUNT = /^\d{12}$/;

/**
 * The accounts and regions to bootstrap for one environment or all of them.
 *
 * - a target environment: its account and region, trusting the CICD account;
 * - `cicd`: the CICD account in its region and in every other region the pipeline deploys to
 *   (CodePipeline's cross-region replication stacks live there), trusting nobody;
 * - `all`: both, the CICD account first. Duplicates (same account, region and qualifier) merge.
 */
export function bootstrapTargets(config: DdkConfig, options: BootstrapOptions = {}): BootstrapTarget[] {
  const cicdAccount = options.cicdAccount ?? config.cicd.account;
  if (!ACCOUNT.test(cicdAccount)) {
    throw new CliError(`--cicd-account: "${cicdAccount}" is not a 12-digit AWS account id. Fix: pass the CICD account id, e.g. -a 111111111111`, 2);
  }
  const which = options.environment ?? 'all';
  let envs = config.environments;
  if (which !== 'all') {
    try {
      envs = [config.environment(which)];
    } catch (e) {
      throw new CliError(`-e ${which}: ${(e as Error).message.replace(/^[^:]*: environments\.[^:]*: /, '')}`, 2);
    }
  }
  const out: BootstrapTarget[] = [];
  const add = (t: BootstrapTarget) => {
    const same = out.findIndex(o => o.account === t.account && o.region === t.region && o.qualifier === t.qualifier);
    if (same < 0) {
      out.push(t);
      return;
    }
    const o = out[same];
    out[same] = {
      ...o,
      environments: [...new Set([...o.environments, ...t.environments])],
      trust: o.trust ?? t.trust,
      reason: o.reason === t.reason ? o.reason : `${o.reason}; ${t.reason}`,
    };
  };
  for (const env of envs) {
    if (env.isCicd) {
      const q = env.bootstrapQualifier;
      add({ environments: [env.id], account: cicdAccount, region: env.region, qualifier: q, reason: 'hosts the pipeline' });
      const regions = [...new Set(config.targets.map(t => t.region))].filter(r => r !== env.region);
      for (const region of regions) {
        add({ environments: [env.id], account: cicdAccount, region, qualifier: q, reason: `cross-region replication for targets in ${region}` });
      }
    } else {
      add({ environments: [env.id], account: env.account, region: env.region, trust: cicdAccount, qualifier: env.bootstrapQualifier, reason: `trusts the CICD account ${cicdAccount}` });
    }
  }
  return out;
}

/** Options of `bootstrapArgs`. */
export interface BootstrapArgsOptions {
  /** Managed policy ARNs for the CloudFormation execution role; default AdministratorAccess. */
  readonly executionPolicies?: string[];
  /** AWS profile passed to cdk. */
  readonly profile?: string;
}

/** The arguments of `cdk` (after the `cdk` command itself) that bootstrap one target. */
export function bootstrapArgs(t: BootstrapTarget, options: BootstrapArgsOptions = {}): string[] {
  const policies = options.executionPolicies && options.executionPolicies.length > 0
    ? options.executionPolicies
    : [DEFAULT_EXECUTION_POLICY.replace('arn:aws:', `arn:${partitionOf(t.region)}:`)];
  const args = ['bootstrap', `aws://${t.account}/${t.region}`];
  if (t.trust !== undefined && t.trust !== t.account) args.push('--trust', t.trust);
  args.push('--cloudformation-execution-policies', policies.join(','));
  if (t.qualifier !== undefined) args.push('--qualifier', t.qualifier);
  if (options.profile !== undefined) args.push('--profile', options.profile);
  return args;
}

/** Quotes arguments for a POSIX shell (only when needed). */
export function shellQuote(args: string[]): string {
  return args.map(a => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, '\'\\\'\'')}'`)).join(' ');
}

/** Options of `bootstrap`. */
export interface BootstrapCommandOptions extends BootstrapArgsOptions {
  readonly environment?: string;
  readonly cicdAccount?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  /** The CDK CLI command; default `npx cdk`. */
  readonly cdk?: string;
}

/** The command line of the CDK CLI, split into words. */
function cdkCommand(cdk: string | undefined): string[] {
  const words = (cdk ?? 'npx cdk').trim().split(/\s+/).filter(w => w !== '');
  if (words.length === 0) throw new CliError('--cdk is empty. Fix: pass the CDK CLI command, e.g. --cdk "npx cdk"', 2);
  return words;
}

/**
 * `bootstrap`: prints (`--dry-run`) or runs, one after the other, the `cdk bootstrap` commands
 * of one environment or all; stops at the first failure and returns its exit code.
 */
export async function bootstrapCommand(config: DdkConfig, options: BootstrapCommandOptions, io: Io): Promise<number> {
  const cdk = cdkCommand(options.cdk);
  const targets = bootstrapTargets(config, { environment: options.environment, cicdAccount: options.cicdAccount });
  const commands = targets.map(t => ({ target: t, argv: [...cdk, ...bootstrapArgs(t, options)] }));
  if (options.dryRun) {
    if (options.json) {
      io.out(`${JSON.stringify(commands.map(c => ({ ...c.target, command: shellQuote(c.argv), argv: c.argv })), null, 2)}\n`);
    } else {
      for (const c of commands) io.out(`# ${c.target.environments.join(', ')}: ${c.target.reason}\n${shellQuote(c.argv)}\n`);
    }
    return 0;
  }
  for (const [i, c] of commands.entries()) {
    io.err(`${io.errStyle.bold(`[${i + 1}/${commands.length}]`)} ${c.target.environments.join(', ')}: ${c.target.reason}\n$ ${shellQuote(c.argv)}\n`);
    const code = await run(c.argv);
    if (code !== 0) {
      io.err(`${io.errStyle.red('error:')} ${shellQuote(c.argv)} exited with code ${code}; ${commands.length - i - 1} bootstrap(s) not run\n`);
      return code;
    }
  }
  return 0;
}

/** Runs a command with the terminal's stdin/stdout/stderr (its output streams as it comes). */
function run(argv: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', shell: process.platform === 'win32' });
    child.on('error', e => reject(new CliError(`cannot run ${argv[0]}: ${e.message}. Fix: install the AWS CDK CLI or pass --cdk <command>`)));
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}
