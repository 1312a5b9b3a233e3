/**
 * Runs the contract layer over many generated ddk.json files (a script, not a test).
 *
 *   npx ts-node --transpile-only test/contracts/run-many.ts [--runs 200] [--seed 42] [--path "3:1:0"]
 *       [--validation off|schema|full] [--no-guard] [--no-access] [--collect] [--max-targets 6]
 *       [--strategy codepipeline-gitflow] [--shrink-seconds 300]
 *
 * Without --seed, a random seed is used and printed. A failure is shrunk to a minimal ddk.json,
 * which is printed with the seed and path that replay it (`--seed … --path …`).
 * --collect does not stop at the first failing document: it runs them all and prints every
 * contract that broke, how often, and one example each (no shrinking).
 * Defaults: 100 runs, schema validation (the CloudFormation registry schemas; `full` adds
 * aws-cdk-lib's rules and is slower), guard rules and access simulation on.
 */
import * as fc from 'fast-check';
import { formatFindings } from './findings';
import { contractProperty, describeFailure, GeneratedRunOptions, newStats, summarize } from './generated';
import type { CfnValidation } from './synthesize';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const flag = (name: string) => process.argv.includes(`--${name}`);

async function main(): Promise<number> {
  const seed = arg('seed') !== undefined ? Number(arg('seed')) : Date.now() % 2 ** 31;
  const numRuns = Number(arg('runs') ?? 100);
  const collect = flag('collect');
  const options: GeneratedRunOptions = {
    validation: (arg('validation') ?? 'schema') as CfnValidation,
    guard: !flag('no-guard'),
    access: !flag('no-access'),
    collect,
    documents: {
      maxTargets: arg('max-targets') ? Number(arg('max-targets')) : 6,
      strategies: arg('strategy') ? [arg('strategy')!] : undefined,
    },
  };
  const stats = newStats();
  const started = Date.now();
  process.stdout.write(`seed ${seed}, ${numRuns} runs, validation ${options.validation}, guard ${options.guard ? 'on' : 'off'}, access ${options.access ? 'on' : 'off'}${collect ? ', collecting' : ''}\n`);
  const property = contractProperty(options, stats);
  const details = await fc.check(property, {
    seed,
    numRuns,
    path: arg('path'),
    endOnFailure: collect,
    plugins: [fc.interruptAfterTimeLimit(Number(arg('shrink-seconds') ?? 1800) * 1000)],
  });
  process.stdout.write(`${summarize(stats, Date.now() - started)}\n`);
  if (collect) {
    for (const [contract, findings] of [...stats.findingsByContract.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      process.stdout.write(`\n${contract}: ${findings.length} finding(s); e.g.\n${formatFindings(findings.slice(0, 2))}\n`);
    }
    return stats.findingsByContract.size > 0 || stats.failed > 0 ? 1 : 0;
  }
  if (details.failed) {
    process.stdout.write(`\n${describeFailure(details)}\n`);
    return 1;
  }
  return 0;
}

main().then(code => process.exit(code), e => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(2);
});
