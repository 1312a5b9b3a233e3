import * as fc from 'fast-check';
import { formatFindings } from './findings';
import { contractProperty, describeFailure, newStats, summarize } from './generated';
import { checkGuardRules } from './guard';
import type { SynthOutput } from './synthesize';

/*
 * Generated ddk.json files (fast-check), each synthesized through the library's public path and
 * held to every contract. A fixed seed and a bounded number of runs keep `npm test` short and
 * repeatable; `test/contracts/run-many.ts` runs many more with a random or given seed.
 *
 * Synthesis runs without aws-cdk-lib's CloudFormation validation here (it costs seconds per
 * output); hand-picked.test.ts keeps it on, and run-many.ts runs the registry's schema checks.
 * The Control Tower guard rules cost seconds per CICD template (cfn-guard), so here they run once,
 * after the property, over the GUARD_SAMPLE generated output(s) with the most resources (the most
 * kinds of resources); hand-picked.test.ts runs them over its outputs and run-many.ts over every
 * generated output.
 *
 * A failure is shrunk to a minimal ddk.json (within TIME_LIMIT_SECONDS) and printed with the
 * seed and path that replay it.
 */

/**
 * Chosen for coverage: its first 10 files hold all three strategies, both connection ARN forms,
 * created and imported CodeCommit repositories, gated stages with many checks, approvals with
 * notifications, stages of several environments, cross-region and CICD-account targets, PARALLEL
 * mode, notifications and rollback.
 */
const SEED = 1;
const RUNS = 10;
/** Generated outputs the guard rules run over in `npm test`. */
const GUARD_SAMPLE = 1;
/** The whole run, shrinking included, stops after this (the counterexample so far is reported). */
const TIME_LIMIT_SECONDS = 60;

const outputs: Array<{ out: SynthOutput; doc: any }> = [];
afterAll(() => outputs.forEach(o => o.out.dispose()));

test('generated ddk.json files synthesize into templates that keep AWS\'s contracts', async () => {
  const stats = newStats();
  const started = Date.now();
  const keep = (out: SynthOutput, doc: any) => outputs.push({ out, doc });
  const details = await fc.check(contractProperty({ guard: false, access: true, validation: 'off', keep }, stats), {
    seed: SEED,
    numRuns: RUNS,
    plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_SECONDS * 1000)],
  });
  // one line for the CI log: how many were checked or refused, and the time taken
  process.stdout.write(`contract layer, generated: ${summarize(stats, Date.now() - started)}\n`);
  if (details.failed) throw new Error(describeFailure(details));
  // the run must exercise the contracts, not only refusals
  expect(stats.checked).toBeGreaterThanOrEqual(RUNS / 2);
}, 300_000);

test('the largest generated outputs keep AWS Control Tower\'s guard rules', () => {
  const size = (o: { out: SynthOutput }) => o.out.stacks.reduce((n, s) => n + Object.keys(s.template.Resources ?? {}).length, 0);
  const sample = [...outputs].sort((a, b) => size(b) - size(a)).slice(0, GUARD_SAMPLE);
  expect(sample.length).toBeGreaterThan(0);
  const started = Date.now();
  const findings = checkGuardRules(sample.flatMap(o => o.out.stacks));
  process.stdout.write(`contract layer, guard rules over ${sample.length} generated outputs: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (findings.length === 0) return;
  // the smallest document with a finding, and its findings
  const ownFindings = (o: { out: SynthOutput }) => findings.filter(f => o.out.stacks.some(s => s.templateFile === f.templateFile));
  const offending = sample.filter(o => ownFindings(o).length > 0);
  const smallest = offending.sort((a, b) => JSON.stringify(a.doc).length - JSON.stringify(b.doc).length)[0];
  const own = smallest ? ownFindings(smallest) : findings;
  throw new Error(`${findings.length} guard finding(s) over ${offending.length} generated output(s); the smallest ddk.json among them:\n`
    + `${JSON.stringify(smallest?.doc, undefined, 2)}\n\n${formatFindings(own)}`);
}, 120_000);
