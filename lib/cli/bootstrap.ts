import { spawn } from 'child_process';
import { DdkConfig } from '../config';
import { callerAccount } from './caller-identity';
import { CliError, Io } from './io';
import { didYouMean } from '../config/issues';
import { partitionOf } from '../config/regions';
import { PROFILE_PATTERN } from '../config/schema';

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
  /**
   * The AWS profile whose credentials reach this account (`--profile` of `cdk bootstrap`).
   *
   * @default - the current credentials
   */
  readonly profile?: string;
}

/** Options of `bootstrapTargets`. */
export interface BootstrapOptions {
  /** An environment id, or `all` (the default): every environment. */
  readonly environment?: string;
  /** The CICD account to trust; default: `environments.cicd.account`. */
  readonly cicdAccount?: string;
  /**
   * AWS profiles by environment id (`--profile <env>=<profile>`); they win over
   * `environments.<id>.bootstrap.profile` of ddk.json.
   *
   * @default - the profiles of ddk.json
   */
  readonly profiles?: { readonly [environment: string]: string };
  /**
   * The profile of targets for which neither the command line nor ddk.json names one
   * (`--profile <profile>`).
   *
   * @default - the current credentials
   */
  readonly defaultProfile?: string;
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
  // How each account is reached: the command line's profile of one of the target's environments,
  // else ddk.json's, else that of another environment in the same account, else --profile <p>.
  const profileOf = (id: string): string | undefined => options.profiles?.[id] ?? fileProfile(config, id);
  const accountOf = (e: { id: string; isCicd: boolean; account: string }) => (e.isCicd ? cicdAccount : e.account);
  const byAccount = new Map<string, string>();
  for (const e of config.environments) {
    const p = profileOf(e.id);
    if (p !== undefined && !byAccount.has(accountOf(e))) byAccount.set(accountOf(e), p);
  }
  return out.map(t => {
    const profile = t.environments.map(profileOf).find(p => p !== undefined) ?? byAccount.get(t.account) ?? options.defaultProfile;
    return profile === undefined ? t : { ...t, profile };
  });
}

/** `environments.<id>.bootstrap.profile` of ddk.json. */
function fileProfile(config: DdkConfig, id: string): string | undefined {
  const p = config.environment(id).attribute('bootstrap')?.profile;
  return typeof p === 'string' ? p : undefined;
}

/** The profiles of `--profile`: `<env>=<profile>` for one environment, a bare `<profile>` for the rest. */
export interface ParsedProfiles {
  readonly profiles: { [environment: string]: string };
  readonly defaultProfile?: string;
}

/**
 * Parses the values of `--profile` (repeatable): `<env>=<profile>` names the profile of one
 * environment of ddk.json; a bare `<profile>` is the profile of every target without one.
 */
export function parseProfiles(values: string | string[] | undefined, config: DdkConfig): ParsedProfiles {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const ids = config.environments.map(e => e.id);
  const profiles: { [environment: string]: string } = {};
  let defaultProfile: string | undefined;
  const checkName = (value: string, name: string) => {
    if (!PROFILE_PATTERN.test(name)) {
      throw new CliError(`--profile ${value}: "${name}" is not an AWS profile name; expected letters, digits and _ . @ + , : / - (at most 128 characters). Fix: pass --profile <env>=<profile>, e.g. --profile dev=dev-admin`, 2);
    }
  };
  for (const value of list) {
    const eq = value.indexOf('=');
    if (eq < 0) {
      checkName(value, value);
      if (defaultProfile !== undefined && defaultProfile !== value) {
        throw new CliError(`--profile: "${defaultProfile}" and "${value}" both without an environment; only one profile can be the default. Fix: name the environment of each, e.g. --profile dev=${value}`, 2);
      }
      defaultProfile = value;
      continue;
    }
    const env = value.slice(0, eq);
    const name = value.slice(eq + 1);
    if (!ids.includes(env)) {
      throw new CliError(`--profile ${value}: ${config.file} has no environment "${env}"${didYouMean(env, ids)}; its environments are ${ids.map(i => `"${i}"`).join(', ')}. Fix: pass --profile <env>=<profile> with one of them`, 2);
    }
    checkName(value, name);
    if (profiles[env] !== undefined && profiles[env] !== name) {
      throw new CliError(`--profile: environment "${env}" is given two profiles, "${profiles[env]}" and "${name}". Fix: pass one`, 2);
    }
    profiles[env] = name;
  }
  return { profiles, defaultProfile };
}

/** Targets that one set of credentials (a profile, or the current credentials) bootstraps. */
export interface CredentialGroup {
  /** The profile, or undefined for the current credentials. */
  readonly profile?: string;
  /** The distinct accounts of the targets, in order. */
  readonly accounts: string[];
  readonly targets: BootstrapTarget[];
}

/** The targets grouped by the credentials they run with. */
export function credentialGroups(targets: BootstrapTarget[]): CredentialGroup[] {
  const groups = new Map<string | undefined, BootstrapTarget[]>();
  for (const t of targets) groups.set(t.profile, [...(groups.get(t.profile) ?? []), t]);
  return [...groups].map(([profile, ts]) => ({ profile, accounts: [...new Set(ts.map(t => t.account))], targets: ts }));
}

const PROFILE_FIX = 'give the environments of each other account a profile that reaches it: "bootstrap": {"profile": "<profile>"} under environments.<id> in ddk.json, '
  + 'or --profile <env>=<profile> on the command line (e.g. --profile dev=dev-admin; environments in one account share a profile). '
  + 'With a CDK credential plugin that reaches every account, pass --no-account-check';

/** `222222222222 (dev, dev2)` for the accounts of a group. */
function accountList(group: CredentialGroup): string {
  return group.accounts.map(a => `${a} (${[...new Set(group.targets.filter(t => t.account === a).flatMap(t => t.environments))].join(', ')})`).join(', ');
}

/**
 * Why the targets cannot all be bootstrapped as given: one set of credentials (a profile, or the
 * current credentials) reaches one account, so a group of targets in several accounts fails in
 * the CDK CLI for all but one of them. Empty when every group is one account.
 */
export function reachProblems(targets: BootstrapTarget[]): string[] {
  return credentialGroups(targets).filter(g => g.accounts.length > 1).map(g => (g.profile === undefined
    ? `${g.accounts.length} accounts would be bootstrapped with your current credentials, which reach one account: ${accountList(g)}`
    : `profile "${g.profile}" would be used for ${g.accounts.length} accounts, and a profile reaches one account: ${accountList(g)}`));
}

/** Options of `bootstrapArgs`. */
export interface BootstrapArgsOptions {
  /** Managed policy ARNs for the CloudFormation execution role; default AdministratorAccess. */
  readonly executionPolicies?: string[];
  /**
   * AWS profile passed to cdk for a target without a profile of its own.
   *
   * @default - the target's profile, else none (the current credentials)
   */
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
  const profile = t.profile ?? options.profile;
  if (profile !== undefined) args.push('--profile', profile);
  return args;
}

/** Quotes arguments for a POSIX shell (only when needed). */
export function shellQuote(args: string[]): string {
  return args.map(a => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, '\'\\\'\'')}'`)).join(' ');
}

/** Options of `bootstrap`. */
export interface BootstrapCommandOptions extends Omit<BootstrapArgsOptions, 'profile'> {
  /**
   * Values of `--profile`: `<env>=<profile>` for one environment, `<profile>` for the rest.
   *
   * @default - the profiles of ddk.json, else the current credentials
   */
  readonly profile?: string | string[];
  readonly environment?: string;
  readonly cicdAccount?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  /** The CDK CLI command; default `npx cdk`. */
  readonly cdk?: string;
  /**
   * Whether to check, when several accounts are bootstrapped, that each set of credentials
   * reaches its account (false: a CDK credential plugin reaches them, e.g. configured in cdk.json).
   *
   * @default - true, unless the CDK command passes --plugin
   */
  readonly accountCheck?: boolean;
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
  const { profiles, defaultProfile } = parseProfiles(options.profile, config);
  const targets = bootstrapTargets(config, { environment: options.environment, cicdAccount: options.cicdAccount, profiles, defaultProfile });
  const commands = targets.map(t => ({ target: t, argv: [...cdk, ...bootstrapArgs(t, { executionPolicies: options.executionPolicies })] }));
  const accounts = new Set(targets.map(t => t.account));
  // One set of credentials reaches one account, unless a CDK credential plugin provides them.
  const check = options.accountCheck !== false && !cdk.includes('--plugin');
  const problems = check ? reachProblems(targets) : [];
  // With several accounts, a target without a profile runs with the current credentials.
  const credentialsNote = (t: BootstrapTarget) => (check && accounts.size > 1 && t.profile === undefined
    ? ` (with your current credentials, which must be for ${t.account})` : '');
  if (options.dryRun) {
    if (options.json) {
      io.out(`${JSON.stringify(commands.map(c => ({ ...c.target, command: shellQuote(c.argv), argv: c.argv })), null, 2)}\n`);
    } else {
      for (const c of commands) io.out(`# ${c.target.environments.join(', ')}: ${c.target.reason}${credentialsNote(c.target)}\n${shellQuote(c.argv)}\n`);
    }
    for (const p of problems) io.err(`${io.errStyle.yellow('warning:')} ${p}. Fix: ${PROFILE_FIX}\n`);
    return 0;
  }
  if (problems.length > 0) {
    throw new CliError(`cannot bootstrap as given (nothing was run):\n${problems.map(p => `  - ${p}`).join('\n')}\nFix: ${PROFILE_FIX}`, 2);
  }
  // Several accounts: check up front that each profile (and the current credentials) is for the
  // account it is used for.
  if (check && accounts.size > 1) {
    await io.progress('checking which account each profile reaches', () => checkAccounts(targets, io));
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

/** Refuses, before anything runs, credentials that are for another account than their targets'. */
async function checkAccounts(targets: BootstrapTarget[], io: Io): Promise<void> {
  const wrong: string[] = [];
  for (const g of credentialGroups(targets)) {
    const actual = await callerAccount({ region: g.targets[0].region, profile: g.profile, env: io.env });
    if (actual !== g.accounts[0]) {
      wrong.push(`${g.profile === undefined ? 'your current credentials are' : `profile "${g.profile}" is`} for account ${actual}, not ${accountList(g)}`);
    }
  }
  if (wrong.length > 0) {
    throw new CliError(`cannot bootstrap as given (nothing was run):\n${wrong.map(w => `  - ${w}`).join('\n')}\nFix: ${PROFILE_FIX}`);
  }
}

/** Runs a command with the terminal's stdin/stdout/stderr (its output streams as it comes). */
function run(argv: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', shell: process.platform === 'win32' });
    child.on('error', e => reject(new CliError(`cannot run ${argv[0]}: ${e.message}. Fix: install the AWS CDK CLI or pass --cdk <command>`)));
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}
