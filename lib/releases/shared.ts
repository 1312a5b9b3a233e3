import { createHash } from 'crypto';

/*
 * Release brackets: the one module shared by the model, the constructs, the CLI and the release
 * handler (lambda/release-events). Names, variables, event detail-types, record shapes and the
 * naming rules live here and only here. No aws-cdk-lib and no AWS SDK import.
 */

/** A service name in ddk.json (`pipeline.services`): lower-case letters, digits and `-`, 1 to 40. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Variables every service build gets. */
export const SERVICE_VARIABLES = {
  /** The service's name. */
  SERVICE: 'DDK_SERVICE',
  /**
   * The ddk.json environments the service deploys to, as JSON `{"<id>": {"account", "region", …}}`
   * (each environment as ddk.json writes it, plus `cicd`): `ServiceStages` reads it.
   */
  ENVIRONMENTS: 'DDK_ENVIRONMENTS',
} as const;

/** The release pipeline's variable holding the release id (`#{variables.ReleaseId}`). */
export const RELEASE_ID_VARIABLE = 'ReleaseId';
/** The release pipeline's variable holding who started the release. */
export const RELEASE_BY_VARIABLE = 'ReleaseStartedBy';

/** A release id: `r-<UTC yyyymmdd-hhmmss>-<4 hex>`, e.g. `r-20261129-143000-1a2b`. */
export const RELEASE_ID_PATTERN = /^r-\d{8}-\d{6}-[0-9a-f]{4}$/;

/** A new release id for a release started at `at` (the hex keeps two starts in one second apart). */
export function newReleaseId(at: Date, seed: string): string {
  const iso = at.toISOString(); // 2026-11-29T14:30:00.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `r-${stamp}-${createHash('sha256').update(`${seed}|${iso}`).digest('hex').slice(0, 4)}`;
}

/** Name of a service's own pipeline: `<pipeline>-<service>`. */
export function servicePipelineName(pipeline: string, service: string): string {
  return `${pipeline}-${service}`;
}

/** Name of the release pipeline: `<pipeline>-release`. */
export function releasePipelineName(pipeline: string): string {
  return `${pipeline}-release`;
}

/** The release pipeline's source action of a service (its `sourceRevisions` override names it). */
export function serviceSourceActionName(service: string): string {
  return `Source-${service}`;
}

/**
 * Stage name prefix of a service's stacks in an environment: `<service>-<environment id>`; the
 * service's stacks are `<service>-<environment id>-<stack id>`, so two services never collide.
 */
export function serviceStageName(service: string, environmentId: string): string {
  return `${service}-${environmentId}`;
}

/** `detail-type`s of release events (published with the status checks' `source`). */
export const RELEASE_DETAIL_TYPES = {
  STARTED: 'Release Started',
  DEPLOYED: 'Release Stage Deployed',
  TESTED: 'Release Stage Tested',
  PROMOTED: 'Release Stage Promoted',
  FINISHED: 'Release Finished',
  /** A service's revision passed its last per-service stage: a candidate for the next release. */
  CANDIDATE: 'Release Candidate Recorded',
} as const;

/** A member of a release: one service at one exact revision. */
export interface ReleaseMember {
  readonly service: string;
  /** The commit id. */
  readonly revision: string;
}

/** A candidate: a service revision that passed the service's last per-service stage. */
export interface ReleaseCandidate extends ReleaseMember {
  /** The service pipeline's execution that passed. */
  readonly execution: string;
  readonly recordedAt: string;
}

/** The states of a release. */
export const RELEASE_STATES = ['started', 'succeeded', 'failed', 'stopped', 'superseded'] as const;
export type ReleaseState = typeof RELEASE_STATES[number];

/** One stage of a release as it went. */
export interface ReleaseStageProgress {
  readonly stage: string;
  /** CodePipeline's stage status: InProgress, Succeeded, Failed, Stopped, … */
  readonly status: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
}

/** A release, as recorded from the release pipeline's events. */
export interface ReleaseRecord {
  readonly pipeline: string;
  readonly releaseId: string;
  /** The release pipeline's execution. */
  readonly execution: string;
  readonly members: ReleaseMember[];
  readonly state: ReleaseState;
  /** Who started it (IAM principal ARN, from the execution's trigger or the ReleaseStartedBy variable). */
  readonly startedBy?: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly stages: ReleaseStageProgress[];
}

/** One event of a release's stream, as recorded for `release events <id>`. */
export interface ReleaseEventRecord {
  readonly releaseId: string;
  readonly detailType: string;
  readonly stage?: string;
  readonly at: string;
  readonly detail: Record<string, unknown>;
}

/**
 * The table's release items (in the status-check table):
 *
 * | item | pk | sk |
 * |---|---|---|
 * | a release | `RELEASES#<pipeline>` | `RELEASE#<releaseId>` |
 * | a release's events | `RELEASE#<pipeline>#<releaseId>` | `EVENT#<time>#<n>` |
 * | a service's latest candidate | `CANDIDATES#<pipeline>` | `SERVICE#<service>` |
 * | an execution → release index | `RELEASES#<pipeline>` | `EXECUTION#<execution id>` |
 */
export const RELEASE_KEYS = {
  releases: (pipeline: string) => `RELEASES#${pipeline}`,
  release: (releaseId: string) => `RELEASE#${releaseId}`,
  releasePrefix: 'RELEASE#',
  execution: (execution: string) => `EXECUTION#${execution}`,
  events: (pipeline: string, releaseId: string) => `RELEASE#${pipeline}#${releaseId}`,
  event: (at: string, n: number) => `EVENT#${at}#${String(n).padStart(4, '0')}`,
  candidates: (pipeline: string) => `CANDIDATES#${pipeline}`,
  candidate: (service: string) => `SERVICE#${service}`,
} as const;

/** Environment variable of the release function (lambda/release-events) holding its `ReleaseSettings` as JSON. */
export const RELEASE_SETTINGS_ENV = 'DDK_RELEASE_SETTINGS';

/** What the release function knows of the plan (`RELEASE_SETTINGS_ENV`), written by the construct from ddk.json. */
export interface ReleaseSettings {
  /** The ddk.json pipeline name (`pipeline.name`): the records' keys, the API's `pipeline` and the events' `pipeline`. */
  readonly pipeline: string;
  /** The release pipeline's name (`releasePipelineName(pipeline)`): only its events are read. */
  readonly releasePipeline: string;
  /** The services (`pipeline.services` keys), in ddk.json order: every release has one member per service. */
  readonly services: string[];
  /** The bracket stages, in pipeline order: each publishes Deployed, Tested and (but the last) Promoted. */
  readonly bracketStages: string[];
}

/** Name prefix of a bracket stage's deploy actions (one per service and environment) in the release pipeline. */
export const RELEASE_DEPLOY_ACTION_PREFIX = 'Deploy-';

/** Name of a bracket stage's tests action in the release pipeline (absent when the stage has no tests). */
export const RELEASE_TESTS_ACTION = 'Tests';

/**
 * The release pipeline's output artifact of a service's source action: named as the action
 * (`Source-<service>`), so GetPipelineExecution's `artifactRevisions[].name` names the service.
 */
export function serviceSourceArtifactName(service: string): string {
  return serviceSourceActionName(service);
}

/** `operation` of the Candidate action's UserParameters. */
export const CANDIDATE_OPERATION = 'candidate';

/**
 * The UserParameters (JSON) of a service pipeline's Candidate action (a Lambda invoke of the
 * release function): `{"operation": "candidate", "service", "revision": "#{<source namespace>.CommitId}",
 * "execution": "#{codepipeline.PipelineExecutionId}"}`, variables resolved by CodePipeline.
 */
export interface CandidateParameters {
  readonly operation: typeof CANDIDATE_OPERATION;
  readonly service: string;
  /** The commit the service pipeline's execution built and deployed. */
  readonly revision: string;
  /** The service pipeline's execution id. */
  readonly execution: string;
}
