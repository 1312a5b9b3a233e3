/*
 * Holding the first execution of the pipelines of a seeded repository: the decisions, with no
 * aws-cdk-lib and no AWS SDK.
 *
 * CodePipeline starts an execution when it creates a pipeline. When ddk-pipelines has just seeded
 * the repository, that execution builds the seed commit (ddk.json and a README), which cannot
 * build, and would fail with failure notifications. The hold stops it instead (Stopped is not
 * Failed): the pipeline waits for the team's first push.
 *
 * Shared by `RepositorySeeder.holdFirstExecutions` (which writes the custom resource's properties
 * in the `HoldSpec` shape) and by the handler in lambda/seed-repository (which parses them, lists
 * each pipeline's executions and asks `FirstExecutionHold.decide` what to do).
 */
import { cutList } from './repository-seed';

/** The custom resource type of the hold; the seeding function serves it too, dispatching on the event's `ResourceType`. */
export const HOLD_RESOURCE_TYPE = 'Custom::DdkHoldSeedExecution';

/** Seconds between two looks at a pipeline's executions. */
export const HOLD_POLL_SECONDS = 5;

/**
 * How long the hold looks for the creation executions, in seconds: CodePipeline starts them
 * asynchronously, and their source revision is known once the Source action has run. Well inside
 * the function's 5-minute timeout, with room for the calls of the last round.
 */
export const HOLD_MAX_WAIT_SECONDS = 150;

/**
 * Executions read per look (ListPipelineExecutions `maxResults`, 1 to 100, newest first). A
 * pipeline created by this deployment has one or two; when this page shows neither the seed's
 * execution nor the creation execution and more pages exist, the pipeline is not a new one.
 */
export const HOLD_PAGE_SIZE = 20;

/** Longest `reason` StopPipelineExecution accepts, in characters. */
export const MAX_STOP_REASON = 200;

/** Longest pipeline name CodePipeline accepts, in characters. */
const MAX_PIPELINE_NAME = 100;

/** The trigger type of the execution CodePipeline starts when it creates a pipeline. */
const CREATE_PIPELINE_TRIGGER = 'CreatePipeline';

/** What the hold is asked to do: the properties of its custom resource. */
export interface HoldSpec {
  /** Names of the pipelines whose first execution may build the seed commit. */
  readonly pipelineNames: string[];
  /**
   * Commit id of the seed commit (40 hexadecimal characters); '' when the repository already
   * had commits before the seeding, in which case there is nothing to hold.
   */
  readonly seedCommitId: string;
}

/** One execution of a pipeline, as ListPipelineExecutions reports it (the fields the hold reads). */
export interface ExecutionSummary {
  /** The execution id. */
  readonly pipelineExecutionId: string;
  /** `InProgress`, `Stopping`, `Stopped`, `Succeeded`, `Superseded`, `Failed` or `Cancelled`. */
  readonly status: string;
  /** Revision ids of its source artifacts (commit ids); empty while the Source action runs. */
  readonly sourceRevisionIds: string[];
  /**
   * What started it (`CreatePipeline` for the execution a new pipeline starts).
   *
   * @default - not reported
   */
  readonly triggerType?: string;
}

/** The first page of a pipeline's executions, newest first. */
export interface ExecutionListing {
  /** The executions of the page. */
  readonly executions: ExecutionSummary[];
  /** Whether older executions exist beyond this page. */
  readonly more: boolean;
}

/** What to do about one pipeline after a look at its executions. */
export enum HoldDecisionKind {
  /** Stop `executions`: in progress on the seed commit. */
  STOP = 'STOP',
  /** The seed's `executions` have ended (or are being stopped) already: leave them. */
  ENDED = 'ENDED',
  /** The creation execution (in `executions`) ended on another revision: nothing to hold. */
  OTHER_REVISION = 'OTHER_REVISION',
  /** Many executions and no creation execution among the newest: not a pipeline this deployment created. */
  NOT_NEW = 'NOT_NEW',
  /** No execution of the seed commit yet: look again. */
  WAIT = 'WAIT',
}

/** The decision about one pipeline. */
export interface HoldDecision {
  /** What to do. */
  readonly kind: HoldDecisionKind;
  /** The executions the decision is about (none for `NOT_NEW` and `WAIT`). */
  readonly executions: ExecutionSummary[];
}

/** Why nothing of a pipeline was stopped or found ended. */
export enum NotHeldReason {
  /** No execution of the seed commit appeared within `HOLD_MAX_WAIT_SECONDS`. */
  NOT_FOUND = 'not-found',
  /** Its creation execution ended on another revision. */
  OTHER_REVISION = 'other-revision',
  /** Not a pipeline this deployment created (many executions, no creation execution among the newest). */
  NOT_NEW = 'not-new',
  /** CodePipeline kept refusing or failing the calls (the last error is in `lastError`). */
  ERROR = 'error',
}

/** What the hold did about one pipeline, for the custom resource's response and the logs. */
export interface PipelineHoldOutcome {
  /** The pipeline. */
  readonly pipelineName: string;
  /** Executions stopped by this request. */
  readonly stopped: string[];
  /** Executions of the seed commit left alone, with their status (`Failed`, `Stopping`, …). */
  readonly ended: { readonly pipelineExecutionId: string; readonly status: string }[];
  /**
   * Why nothing was stopped or found ended.
   *
   * @default - something was
   */
  readonly notHeld?: NotHeldReason;
  /**
   * The last error of the calls about this pipeline.
   *
   * @default - none
   */
  readonly lastError?: string;
}

/** The `Data` of the hold's custom-resource response (each list cut by `cutList`). */
export interface HoldResponseData {
  /** `pipeline:executionId` of each execution stopped, comma-separated. */
  readonly StoppedExecutions: string;
  /** `pipeline:executionId:status` of each execution of the seed commit left alone, comma-separated. */
  readonly EndedExecutions: string;
  /** `pipeline:reason` of each pipeline with nothing stopped or found ended, comma-separated. */
  readonly NotHeldPipelines: string;
}

/**
 * The rules of the hold.
 *
 * An execution is the seed's when one of its source revisions is the seed commit. Every such
 * execution in progress is stopped (abandoning its in-progress actions); one that has ended, or
 * is being stopped, is left as it is. A pipeline with no execution of the seed commit yet is
 * looked at again every `HOLD_POLL_SECONDS` for up to `HOLD_MAX_WAIT_SECONDS`, unless its
 * executions show that it will not get one (its creation execution ended on another revision, or
 * it is an older pipeline with many executions).
 */
export class FirstExecutionHold {
  /** The `reason` recorded on a stopped execution (at most `MAX_STOP_REASON` characters). */
  public static reason(seedCommitId: string): string {
    return `ddk-pipelines: waiting for the team's first push; the repository holds only the seed commit ${seedCommitId}`.slice(0, MAX_STOP_REASON);
  }

  /** Decides what to do about a pipeline from the first page of its executions. */
  public static decide(seedCommitId: string, listing: ExecutionListing): HoldDecision {
    const seeds = listing.executions.filter(e => e.sourceRevisionIds.includes(seedCommitId));
    const running = seeds.filter(e => e.status === 'InProgress');
    if (running.length > 0) return { kind: HoldDecisionKind.STOP, executions: running };
    if (seeds.length > 0) return { kind: HoldDecisionKind.ENDED, executions: seeds };
    const creation = listing.executions.find(e => e.triggerType === CREATE_PIPELINE_TRIGGER);
    if (creation !== undefined && !['InProgress', 'Stopping'].includes(creation.status)) {
      // it ended without building the seed commit; later executions build later commits
      return { kind: HoldDecisionKind.OTHER_REVISION, executions: [creation] };
    }
    if (creation === undefined && listing.more) return { kind: HoldDecisionKind.NOT_NEW, executions: [] };
    return { kind: HoldDecisionKind.WAIT, executions: [] };
  }

  /**
   * Seconds to wait before the next look, `elapsedSeconds` after the first one; undefined when
   * the hold should give up (the next look would come after `HOLD_MAX_WAIT_SECONDS`).
   */
  public static nextWait(elapsedSeconds: number): number | undefined {
    return elapsedSeconds + HOLD_POLL_SECONDS <= HOLD_MAX_WAIT_SECONDS ? HOLD_POLL_SECONDS : undefined;
  }

  /** The response `Data` that reports `outcomes` (within CloudFormation's 4,096-byte response limit). */
  public static responseData(outcomes: PipelineHoldOutcome[]): HoldResponseData {
    return {
      StoppedExecutions: cutList(outcomes.flatMap(o => o.stopped.map(id => `${o.pipelineName}:${id}`))),
      EndedExecutions: cutList(outcomes.flatMap(o => o.ended.map(e => `${o.pipelineName}:${e.pipelineExecutionId}:${e.status}`))),
      NotHeldPipelines: cutList(outcomes.filter(o => o.notHeld !== undefined).map(o => `${o.pipelineName}:${o.notHeld}`)),
    };
  }

  /** Problems of a hold request, one message each (empty when valid). `where` prefixes each message. */
  public static problems(spec: HoldSpec, where: string): string[] {
    const out: string[] = [];
    if (spec.pipelineNames.length === 0) {
      out.push(`${where}: pipelineNames is empty; expected the names of the pipelines to hold. Fix: pass at least one pipeline`);
    }
    out.push(...FirstExecutionHold.nameProblems(spec.pipelineNames, where));
    if (spec.seedCommitId !== '' && !/^[0-9a-f]{40}$/.test(spec.seedCommitId)) {
      out.push(`${where}: seedCommitId: "${spec.seedCommitId}" is not a commit id; expected 40 lowercase hexadecimal characters, or "" when the repository was not seeded. Fix: pass the seed resource's SeedCommitId attribute`);
    }
    return out;
  }

  /** Problems of pipeline names (CodePipeline's documented length and pattern; each once), one message each. */
  public static nameProblems(names: string[], where: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const why = pipelineNameProblem(name);
      if (why) out.push(`${where}: pipelineNames: "${name}" ${why}; expected a CodePipeline pipeline name (1 to ${MAX_PIPELINE_NAME} of A-Z a-z 0-9 . @ - _). Fix: rename the pipeline`);
      if (seen.has(name)) out.push(`${where}: pipelineNames: "${name}" is given twice. Fix: pass each pipeline once`);
      seen.add(name);
    }
    return out;
  }

  /**
   * Reads the custom resource's properties, as CloudFormation delivers them, into a spec.
   *
   * @throws an error listing every problem when they are not a valid spec
   */
  public static parseProperties(properties: any): HoldSpec {
    const p = properties ?? {};
    const problems: string[] = [];
    if (!Array.isArray(p.pipelineNames) || p.pipelineNames.some((n: unknown) => typeof n !== 'string')) {
      problems.push(`pipelineNames: expected a list of strings, got ${JSON.stringify(p.pipelineNames)}`);
    }
    if (typeof p.seedCommitId !== 'string') {
      problems.push(`seedCommitId: expected a string, got ${JSON.stringify(p.seedCommitId)}`);
    }
    if (problems.length === 0) {
      const spec: HoldSpec = { pipelineNames: p.pipelineNames, seedCommitId: p.seedCommitId };
      problems.push(...FirstExecutionHold.problems(spec, 'properties'));
      if (problems.length === 0) return spec;
    }
    throw new Error(`ddk-pipelines: invalid first-execution hold properties (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
  }
}

/** Why `name` cannot be a CodePipeline pipeline name (its documented length and pattern), or undefined. */
function pipelineNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_PIPELINE_NAME) return `has ${name.length} characters (at most ${MAX_PIPELINE_NAME})`;
  if (!/^[A-Za-z0-9.@\-_]+$/.test(name)) return 'contains a character other than A-Z a-z 0-9 . @ - _';
  return undefined;
}
