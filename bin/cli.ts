#!/usr/bin/env node
/*
 * ddk-pipelines: the command line of the package (bundled by `npx projen bundle` into
 * dist/cli/ddk-pipelines.js). This file only wires commander to the commands in lib/cli, which
 * never load aws-cdk-lib: validate, plan and graph need neither the CDK nor AWS credentials.
 */
import { Command, CommanderError, Option } from 'commander';
import { requirementCommand, listCommand, overrideCommand, reportCommand } from '../lib/cli/checks';
import { bootstrapFromFile, graphCommand, GRAPH_FORMATS, planCommand } from '../lib/cli/commands';
import { CliError, Io, processIo, ProcessIoOptions, quietOnClosedPipe } from '../lib/cli/io';
import { approvalCommand, executionsCommand, rollbackCommand, statusCommand } from '../lib/cli/pipeline-ops';
import { releaseEventsCommand, releaseListCommand, releaseStartCommand, releaseStatusCommand } from '../lib/cli/releases';
import { reviewDestroyCommand, reviewsCommand } from '../lib/cli/reviews';
import { diffCommand, windowOverrideCommand, windowStatusCommand } from '../lib/cli/safety';
import { CHECK_STATES } from '../lib/cli/status-check-api';
import { validateCommand } from '../lib/cli/validate';
// The package's version, inlined into the bundle by esbuild (the bundle also runs outside the package).
import { version as PACKAGE_VERSION } from '../package.json';

const PIPELINE_HELP = 'pipeline name (default: the plan\'s name from ./ddk.json)';
const CONFIG_HELP = 'the ddk.json that gives defaults (default: ./ddk.json)';

/** Adds the options of commands that work on a deployed pipeline. */
function pipelineOptions(cmd: Command): Command {
  return cmd
    .option('-p, --pipeline <name>', PIPELINE_HELP)
    .option('-r, --region <region>', 'AWS region of the pipeline (default: the cicd region of ddk.json, else your AWS configuration)')
    .option('-c, --config <file>', CONFIG_HELP);
}

/** Adds the options of commands that call the status-check API. */
function apiOptions(cmd: Command): Command {
  return pipelineOptions(cmd)
    .option('--endpoint <url>', 'status-check API base URL (default: $DDK_PIPELINES_API, else the CICD stack\'s StatusChecksApiEndpoint output)')
    .option('--stack <name>', 'the CICD stack whose output names the API (default: <pipeline name>-pipeline)');
}

/** The program; `done` receives each command's exit code. */
export function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command();
  program
    .name('ddk-pipelines')
    .description('Validate, plan and draw a ddk.json delivery pipeline; bootstrap its accounts; operate the deployed pipeline.')
    .version(PACKAGE_VERSION, '-v, --version', 'print the version of ddk-pipelines')
    .option('--no-color', 'never colour the output (also: NO_COLOR=1)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: s => io.out(s), writeErr: s => io.err(s) })
    .addHelpText('after', `
Exit codes: 0 success, 1 failure (an invalid ddk.json given to validate/plan/graph/bootstrap, a failed call),
2 usage error (including no usable ddk.json where a command takes its defaults from it).
Commands that call AWS use your default credential chain (AWS_PROFILE, SSO, environment, …).`);

  program.command('validate')
    .description('Validate a ddk.json: every problem with its JSON path, value, expectation and fix (exit 1 when invalid)')
    .argument('[file]', 'the file to validate', 'ddk.json')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts) => done(validateCommand(file, opts, io)));

  program.command('plan')
    .description('Print the delivery plan: stages in order, environments deployed in parallel, gates, approvals, tests, source')
    .argument('[file]', 'the ddk.json to read', 'ddk.json')
    .option('--json', 'print the plan as JSON')
    .action((file: string, opts) => done(planCommand(file, opts, io)));

  program.command('graph')
    .description('Draw the delivery graph (source → build → stages with parallel environments, gates, approvals, tests)')
    .argument('[file]', 'the ddk.json to read', 'ddk.json')
    .addOption(new Option('-f, --format <format>', 'output format (default: from the extension of --output, else svg)').choices([...GRAPH_FORMATS]))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addHelpText('after', '\nExample: ddk-pipelines graph --format svg -o docs/pipeline.svg')
    .action(async (file: string, opts) => done(await graphCommand(file, opts, io)));

  program.command('bootstrap')
    .description('Derive the `cdk bootstrap` commands from ddk.json (targets trust the CICD account) and run them, or print them with --dry-run')
    .option('-e, --environment <id>', 'environment id, or "all" (default: all)')
    .option('-a, --cicd-account <account>', 'the CICD account to trust (default: environments.cicd.account)')
    .option('--dry-run', 'print the commands instead of running them')
    .option('--execution-policy <arn...>', 'managed policy ARNs for the CloudFormation execution role (default: AdministratorAccess)')
    .option('--profile <[env=]profile>', 'AWS profile that reaches an environment\'s account, as <env>=<profile> (repeatable; wins over '
      + 'environments.<env>.bootstrap.profile of ddk.json), or <profile> for every environment without one', (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--cdk <command>', 'the CDK CLI command', 'npx cdk')
    .option('--no-account-check', 'with several accounts, do not check that each profile reaches its account (a CDK credential plugin, e.g. in cdk.json, reaches them; implied by --plugin in --cdk)')
    .option('-c, --config <file>', 'the ddk.json to read (default: ./ddk.json)')
    .option('--json', 'with --dry-run: print the commands as JSON')
    .addHelpText('after', `
Each account needs credentials of its own: one set of credentials reaches one account. Name a profile
per environment in ddk.json ("bootstrap": {"profile": "dev-admin"}) or here (--profile dev=dev-admin);
environments in one account share it. With several accounts, each profile's account is checked (STS
GetCallerIdentity) before anything runs.

Examples:
  ddk-pipelines bootstrap -e dev -a 111111111111 --dry-run
  ddk-pipelines bootstrap --profile cicd=cicd-admin --profile dev=dev-admin --profile prod-eu=prod-eu-admin --profile prod-us=prod-us-admin`)
    .action(async opts => done(await bootstrapFromFile({ ...opts, executionPolicies: opts.executionPolicy }, io)));

  const checks = program.command('checks')
    .description('Report, list and require status checks through the status-check API (SigV4-signed)');
  apiOptions(checks.command('report'))
    .description('Report the state of a check for a source revision')
    .requiredOption('--revision <commit>', 'the source commit id the check is about')
    .requiredOption('--context <context>', 'the check, as system/name (e.g. ci/integration)')
    .addOption(new Option('--state <state>', 'the check\'s state').choices([...CHECK_STATES]).makeOptionMandatory())
    .option('--target-url <url>', 'link to the check\'s details')
    .option('--description <text>', 'one line about the result')
    .option('--stage <stage>', 'scope the check to one stage')
    .option('--propagate', 'also post the result upstream (a comment on the CodeCommit commit)')
    .option('--client-request-id <id>', 'an id unique to this report, e.g. the CI job id: running the same command again records it once')
    .option('--json', 'print the API\'s answer as JSON')
    .action(async opts => done(await reportCommand(opts, io)));
  apiOptions(checks.command('list'))
    .description('List the latest check per context of a revision')
    .requiredOption('--revision <commit>', 'the source commit id')
    .option('--history', 'also print every report')
    .option('--json', 'print checks and history as JSON')
    .action(async opts => done(await listCommand(opts, io)));
  const requirements: Array<['require' | 'unrequire', 'add' | 'remove', string]> = [
    ['require', 'add', 'Require contexts in a stage at run time (besides the requiredChecks of ddk.json)'],
    ['unrequire', 'remove', 'Stop requiring contexts added at run time (contexts in ddk.json are removed by editing it)'],
  ];
  for (const [name, change, description] of requirements) {
    apiOptions(checks.command(name))
      .description(description)
      .requiredOption('--stage <stage>', 'the stage')
      .argument('<context...>', 'contexts, as system/name')
      .option('--json', 'print the API\'s answer as JSON')
      .action(async (contexts: string[], opts) => done(await requirementCommand(change, contexts, opts, io)));
  }

  apiOptions(program.command('override'))
    .description('Let a gate waiting on an `error` check pass (recorded with who, when and why)')
    .requiredOption('--stage <stage>', 'the gated stage')
    .requiredOption('--execution <id>', 'the pipeline execution the gate waits for')
    .requiredOption('--reason <text>', 'why the error may be overridden')
    .option('--json', 'print the API\'s answer as JSON')
    .action(async opts => done(await overrideCommand(opts, io)));

  pipelineOptions(program.command('status'))
    .description('Each stage: the execution in it, its state, and for a blocked one why (window, approval with its change review, gate, alarm watch, failed action)')
    .option('--endpoint <url>', 'status-check API URL: also show the checks a waiting gate holds (default: $DDK_PIPELINES_API)')
    .option('--json', 'print the status as JSON')
    .action(async opts => done(await statusCommand(opts, io)));

  pipelineOptions(program.command('diff'))
    .description('Print the change review of a stage: what its deployments add, modify, replace and remove in each environment (the report behind its approval)')
    .requiredOption('-s, --stage <stage>', 'the stage (it has "changeReview": true in ddk.json)')
    .option('--execution <id>', 'the pipeline execution whose review to print (default: the stage\'s latest)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
The report is read from the pipeline's artifact bucket with your credentials: s3:GetObject on the
bucket's ddk-change-reviews/ objects and kms:Decrypt on the artifact key. Reports expire with the
pipeline's artifacts (pipeline.artifactRetentionDays).

Examples:
  ddk-pipelines diff --stage production
  ddk-pipelines diff --stage production --execution 3137f7cb-7cf7-4c2b-9c3e-1b1e5f1c0f6e --json`)
    .action(async opts => done(await diffCommand(opts, io)));

  const windows = program.command('window')
    .description('Deployment windows: whether a stage\'s windows are open, and an emergency override for the execution waiting at one');
  windows.command('status')
    .description('Whether each stage\'s windows are open now, and the next opening or closing (offline: ddk.json only)')
    .option('-s, --stage <stage>', 'one stage (default: every stage with windows)')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print the windows\' state as JSON')
    .action(opts => done(windowStatusCommand(opts, io)));
  apiOptions(windows.command('override'))
    .description('Let the execution waiting for a stage\'s deployment window in now (recorded with who, when and why; CodePipeline OverrideStageCondition)')
    .requiredOption('-s, --stage <stage>', 'the stage whose window the execution waits for')
    .requiredOption('--reason <text>', 'why the window is overridden (kept with who and when)')
    .option('--execution <id>', 'the waiting pipeline execution (default: the one waiting at the stage)')
    .option('--json', 'print the API\'s answer as JSON')
    .addHelpText('after', `
Example:
  ddk-pipelines window override --stage production --reason "hotfix for incident 4711"`)
    .action(async opts => done(await windowOverrideCommand(opts, io)));

  pipelineOptions(program.command('executions'))
    .description('The latest pipeline executions, newest first')
    .option('-n, --limit <n>', 'how many', '10')
    .option('--json', 'print the executions as JSON')
    .action(async opts => done(await executionsCommand(opts, io)));

  for (const [name, decision] of [['approve', 'Approved'], ['reject', 'Rejected']] as const) {
    pipelineOptions(program.command(name))
      .description(`${name === 'approve' ? 'Approve' : 'Reject'} the manual approval waiting in a stage`)
      .requiredOption('-s, --stage <stage>', 'the stage whose approval waits')
      .option('--reason <text>', 'summary recorded with the decision')
      .option('--action <name>', 'the approval action, when a stage has several waiting')
      .option('--json', 'print the result as JSON')
      .action(async opts => done(await approvalCommand(decision, opts, io)));
  }

  pipelineOptions(program.command('rollback'))
    .description('Roll a stage back (CodePipeline RollbackStage) to an execution, by default the last one that succeeded in it')
    .requiredOption('-s, --stage <stage>', 'the stage to roll back')
    .option('--to <execution>', 'the execution to roll back to, a standard (not rollback) one (default: the last standard execution that succeeded in the stage)')
    .option('--json', 'print the result as JSON')
    .action(async opts => done(await rollbackCommand(opts, io)));

  // `reviews` lists; `reviews destroy` destroys. The pipeline and API options are `reviews`'s own:
  // commander reads a parent's options anywhere on the line, so destroy takes them through optsWithGlobals().
  const reviews = program.command('reviews')
    .description('List the review deployments of pull requests (live ones; --all: destroyed ones too) through the status-check API')
    .argument('[ddk.json]', 'the ddk.json that gives the pipeline name, its region and its API (default: ./ddk.json)')
    .option('-p, --pipeline <name>', PIPELINE_HELP)
    .option('-r, --region <region>', 'AWS region of the pipeline (default: the cicd region of ddk.json, else your AWS configuration)')
    .option('--endpoint <url>', 'status-check API base URL (default: $DDK_PIPELINES_API, else the CICD stack\'s StatusChecksApiEndpoint output)')
    .option('--stack <name>', 'the CICD stack whose output names the API (default: <pipeline name>-pipeline)')
    .option('--all', 'also list destroyed review deployments')
    .option('--json', 'print the review deployments (with destroy: the API\'s answer) as JSON')
    .addHelpText('after', `
Columns: the pull request (#number and source branch; the source branch for connection sources),
the commit deployed (→ a newer one waiting for the next build), state, stacks, time since the last
update, and the review URL.

Examples:
  ddk-pipelines reviews
  ddk-pipelines reviews --all --json
  ddk-pipelines reviews destroy --pr 12 --reason "demo finished"`)
    .action(async (file: string | undefined, opts) => done(await reviewsCommand(file, opts, io)));
  reviews.command('destroy')
    .description('Destroy a review deployment by hand: the review controller deletes its stacks (POST /reviews/destroy)')
    .argument('[ddk.json]', 'the ddk.json that gives the pipeline name, its source, its region and its API (default: ./ddk.json)')
    .option('--pr <number>', 'the pull request\'s number (CodeCommit sources)')
    .option('--branch <name>', 'the pull request\'s source branch (connection sources: CodePipeline gives no pull request number)')
    .option('--reason <text>', 'why, recorded with who asked (default: "destroyed by hand with ddk-pipelines reviews destroy")')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', `
Name the review deployment with exactly one of --pr and --branch (\`ddk-pipelines reviews\` lists them).
--pipeline, --region, --endpoint, --stack and --json are those of \`reviews\` (see Global Options).

Examples:
  ddk-pipelines reviews destroy --pr 12
  ddk-pipelines reviews destroy --branch feature/login --reason "stale demo"`)
    .action(async (file: string | undefined, _opts, cmd: Command) => done(await reviewDestroyCommand(file, cmd.optsWithGlobals(), io)));

  // `release start|list|status|events`: each subcommand takes the pipeline and API options itself.
  const releaseOptions = (cmd: Command, json: string): Command => cmd
    .option('-p, --pipeline <name>', PIPELINE_HELP)
    .option('-r, --region <region>', 'AWS region of the pipeline (default: the cicd region of ddk.json, else your AWS configuration)')
    .option('--endpoint <url>', 'status-check API base URL (default: $DDK_PIPELINES_API, else the CICD stack\'s StatusChecksApiEndpoint output)')
    .option('--stack <name>', 'the CICD stack whose output names the API (default: <pipeline name>-pipeline)')
    .option('--json', json);
  const release = program.command('release')
    .description('Start and follow releases of a pipeline of services (pipeline.services): one exact commit per service, moved through the bracket stages together')
    .addHelpText('after', `
A release pins one commit of every service and moves the set through the bracket stages (from the
stage marked "bracket": true on) as one unit: all members deploy, the stage's tests run once, the
required checks are reported against the release id, and the next stage follows unless it asks for an approval.

Examples:
  ddk-pipelines release start --service foobar-backend=<commit>
  ddk-pipelines release list
  ddk-pipelines release status r-20261129-143000-1a2b
  ddk-pipelines release events r-20261129-143000-1a2b`);
  releaseOptions(release.command('start')
    .description('Start a release: every service at the given commit, else at its latest candidate; StartPipelineExecution of <pipeline>-release with the commits pinned')
    .argument('[ddk.json]', 'the ddk.json that gives the pipeline, its services, its region and its API (default: ./ddk.json)')
    .option('--service <service=commit>', 'a service\'s commit (its full id), repeatable; a service left out takes its latest candidate: '
      + 'the newest commit that passed its last per-service stage', (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option('--dry-run', 'print what would be started (members, StartPipelineExecution request); CodePipeline is not called'),
  'print the release (id, members, request, execution) as JSON')
    .addHelpText('after', `
Every service of pipeline.services is a member. Candidates come from the status-check API (GET
/releases/candidates); with every service given, the API is not asked. The release id is the pipeline
variable ReleaseId (gates check the release id), ReleaseStartedBy is your principal's ARN (STS).

Examples:
  ddk-pipelines release start --service foobar-backend=3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e
  ddk-pipelines release start --dry-run
  ddk-pipelines release start path/to/ddk.json --service foobar-frontend=<commit> --service foobar-backend=<commit> --json`)
    .action(async (file: string | undefined, opts) => done(await releaseStartCommand(file, opts, io)));
  releaseOptions(release.command('list'), 'print the releases as JSON')
    .description('List the releases of a pipeline, newest first: id, state, members, current stage, who started it, age')
    .argument('[ddk.json]', 'the ddk.json that gives the pipeline name, its region and its API (default: ./ddk.json)')
    .action(async (file: string | undefined, opts) => done(await releaseListCommand(file, opts, io)));
  releaseOptions(release.command('status'), 'print the release, its events and the checks reported against it as JSON')
    .description('Show a release: members, each stage with its status, times, gate (the required checks reported against the release) and events (deployed, tested, promoted), who started it')
    .argument('<release>', 'the release id, e.g. r-20261129-143000-1a2b (`ddk-pipelines release list` shows them)')
    .argument('[ddk.json]', 'the ddk.json that gives the pipeline name, its region and its API (default: ./ddk.json)')
    .action(async (id: string, file: string | undefined, opts) => done(await releaseStatusCommand(id, file, opts, io)));
  releaseOptions(release.command('events'), 'print the events as JSON')
    .description('The event stream of a release in time order: Release Started, Release Stage Deployed/Tested/Promoted per stage, Release Finished')
    .argument('<release>', 'the release id, e.g. r-20261129-143000-1a2b')
    .argument('[ddk.json]', 'the ddk.json that gives the pipeline name, its region and its API (default: ./ddk.json)')
    .action(async (id: string, file: string | undefined, opts) => done(await releaseEventsCommand(id, file, opts, io)));

  // Subcommands inherit io, exitOverride and the --help hint: commander's .command() copies them.
  return program;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function run(argv: string[], options: ProcessIoOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const io = processIo({ ...options, env: argv.includes('--no-color') ? { ...env, NO_COLOR: '1' } : env });
  let code = 0;
  const program = buildProgram(io, c => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e: any) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (CliError.isCliError(e)) {
      io.err(`${io.errStyle.red('error:')} ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`${io.errStyle.red('error:')} ${e?.message ?? e}\n`);
    if (env.DDK_DEBUG) io.err(`${e?.stack ?? ''}\n`);
    return 1;
  }
}

/**
 * Runs the CLI as the `ddk-pipelines` command: on the process's arguments and streams, setting
 * the exit code. Called when the bundle is run directly, and by the bin/ddk-pipelines.js launcher.
 */
export function main(): Promise<void> {
  // The SDK's notice about its own future Node.js support is for developers, not for CLI users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // `ddk-pipelines plan | head -1`: the reader may leave before we finish writing.
  quietOnClosedPipe(process.stdout, line => { try { process.stderr.write(line); } catch { /* stderr gone too */ } }, code => process.exit(code));
  quietOnClosedPipe(process.stderr, () => undefined, () => undefined);
  return run(process.argv.slice(2)).then(code => { process.exitCode = code; });
}

if (require.main === module) void main();
