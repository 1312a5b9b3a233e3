import * as fc from 'fast-check';
import { DdkArbitraryOptions, ddkDocument } from './arbitraries';
import { checkOutput, CheckOptions } from './check-all';
import { Finding, formatFindings } from './findings';
import { CfnValidation, isClearRefusal, synthesizeDdk, SynthOutput } from './synthesize';

/*
 * The property the generated configurations are held to: a valid ddk.json either synthesizes
 * into templates that keep every contract, or is refused with a message that names the file and
 * the fix (a plan beyond a documented limit). A crash, an unacknowledged cdk-nag finding or a
 * broken contract fails the property, and fast-check shrinks the document to a minimal one.
 */

/** What happened to one generated document. */
export interface CaseResult {
  readonly outcome: 'checked' | 'refused';
  readonly findings: Finding[];
  /** The first line of the refusal, when refused. */
  readonly refusal?: string;
  readonly synthMs: number;
  readonly checkMs: number;
}

/** Options of a generated run. */
export interface GeneratedRunOptions extends CheckOptions {
  /** CloudFormation validation during synthesis. @default 'off' */
  readonly validation?: CfnValidation;
  /** Size of the generated documents. */
  readonly documents?: DdkArbitraryOptions;
  /** Record contract findings in the stats instead of failing the property. @default false */
  readonly collect?: boolean;
  /**
   * Receives each checked output instead of it being removed, to check more later (e.g. the guard
   * rules over many outputs in one cfn-guard run); the receiver disposes of it.
   *
   * @default - each output is removed once checked
   */
  readonly keep?: (out: SynthOutput, doc: any) => void;
}

/** Synthesizes one document and runs every contract on it. */
export async function checkDocument(doc: any, options: GeneratedRunOptions = {}): Promise<CaseResult> {
  const started = Date.now();
  let out;
  try {
    out = synthesizeDdk(doc, { validation: options.validation ?? 'off' });
  } catch (e: any) {
    if (isClearRefusal(e)) return { outcome: 'refused', findings: [], refusal: String(e.message).trim().split('\n')[0], synthMs: Date.now() - started, checkMs: 0 };
    throw e;
  }
  const checking = Date.now();
  let kept = false;
  try {
    const findings = await checkOutput(out, options);
    if (options.keep) {
      options.keep(out, doc);
      kept = true;
    }
    return { outcome: 'checked', findings, synthMs: checking - started, checkMs: Date.now() - checking };
  } finally {
    if (!kept) out.dispose();
  }
}

/** The error a document that breaks contracts fails with. */
export class ContractViolation extends Error {
  constructor(public readonly findings: Finding[]) {
    super(`${findings.length} contract finding(s):\n${formatFindings(findings)}`);
    this.name = 'ContractViolation';
  }
}

/** Counts of a generated run. */
export interface RunStats {
  checked: number;
  refused: number;
  failed: number;
  synthMs: number;
  checkMs: number;
  readonly refusals: Map<string, number>;
  /** Findings of every failing case (before shrinking), by contract. */
  readonly findingsByContract: Map<string, Finding[]>;
}

/** The property over generated documents, counting what happens in `stats`. */
export function contractProperty(options: GeneratedRunOptions, stats: RunStats): fc.IAsyncPropertyWithHooks<[any]> {
  return fc.asyncProperty(ddkDocument(options.documents), async doc => {
    let result: CaseResult;
    try {
      result = await checkDocument(doc, options);
    } catch (e: any) {
      stats.failed++;
      if (!options.collect) throw e;
      // collecting: a crash (no file, no fix named) is recorded like a broken contract
      const crash: Finding = { contract: 'synthesis.unclear-error', stack: '(synthesis)', where: JSON.stringify(doc).slice(0, 300), message: String(e?.message ?? e).split('\n')[0] };
      stats.findingsByContract.set(crash.contract, [...(stats.findingsByContract.get(crash.contract) ?? []), crash]);
      return;
    }
    stats.synthMs += result.synthMs;
    stats.checkMs += result.checkMs;
    if (result.outcome === 'refused') {
      stats.refused++;
      const key = result.refusal!.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N').slice(0, 160);
      stats.refusals.set(key, (stats.refusals.get(key) ?? 0) + 1);
      return;
    }
    stats.checked++;
    if (result.findings.length > 0) {
      stats.failed++;
      for (const f of result.findings) stats.findingsByContract.set(f.contract, [...(stats.findingsByContract.get(f.contract) ?? []), f]);
      if (!options.collect) throw new ContractViolation(result.findings);
    }
  });
}

/** Empty counts. */
export function newStats(): RunStats {
  return { checked: 0, refused: 0, failed: 0, synthMs: 0, checkMs: 0, refusals: new Map(), findingsByContract: new Map() };
}

/** A failed run as a report: the minimal ddk.json, what it broke, and how to replay it. */
export function describeFailure(details: fc.RunDetails<any>): string {
  const doc = (details.counterexample as any)?.[0];
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return [
    `A generated ddk.json breaks AWS's contracts (seed ${details.seed}, path "${details.counterexamplePath}", shrunk ${details.numShrinks} times${details.interrupted ? ', shrinking interrupted by the time limit' : ''}).`,
    'Minimal ddk.json:',
    JSON.stringify(doc, undefined, 2),
    '',
    error,
    '',
    `Replay: npx ts-node --transpile-only test/contracts/run-many.ts --seed ${details.seed} --path "${details.counterexamplePath}"`,
  ].join('\n');
}

/** One line about a run. */
export function summarize(stats: RunStats, ms: number): string {
  const refusals = [...stats.refusals.entries()].map(([k, n]) => `${n}× ${k}`).join('; ');
  return `${stats.checked} checked, ${stats.refused} refused with a clear message, ${stats.failed} failed (shrinking included) in ${(ms / 1000).toFixed(1)} s`
    + ` (synthesis ${(stats.synthMs / 1000).toFixed(1)} s, contracts ${(stats.checkMs / 1000).toFixed(1)} s)${refusals ? `; refusals: ${refusals}` : ''}`;
}
