/*
 * Custom-resource handler (aws-cdk-lib custom_resources.Provider, onEvent) of `RepositorySeeder`,
 * for its two resource types:
 * - the seed (`Custom::DdkRepositorySeed`): reads the CodeCommit repository's state, asks
 *   RepositorySeedPlanner what to do, does it. Errors propagate: the provider framework then
 *   reports FAILED to CloudFormation. Nothing here catches an error to report success.
 * - the first-execution hold (`Custom::DdkHoldSeedExecution`, ./hold.ts): stops the new
 *   pipelines' executions of the seed commit; it never fails the deployment.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CodeCommitClient,
  CodeCommitClientConfig,
  CreateBranchCommand,
  CreateCommitCommand,
  GetBranchCommand,
  GetRepositoryCommand,
  ListBranchesCommand,
} from '@aws-sdk/client-codecommit';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createPipelineClient, holdFirstExecutions, HoldResponse, isServiceError } from './hold';
import { HOLD_RESOURCE_TYPE } from '../../lib/pipelines/first-execution-hold';
import {
  cutList,
  RepositorySeedPlanner,
  RepositorySeedSpec,
  RepositoryState,
  SeedActionType,
  SeedRequestType,
  SEED_RESOURCE_TYPE,
} from '../../lib/pipelines/repository-seed';

/** Attempts per CodeCommit and CodePipeline call (the SDK's standard retry strategy: throttling and transient errors, with backoff). */
export const MAX_ATTEMPTS = 8;

/**
 * Waits before each new try of a seed refused with AccessDenied (seconds): IAM can take a while
 * to apply the handler role's new policy after the stack created it. About 2 minutes in all,
 * well inside the handler's 5-minute timeout.
 */
export const ACCESS_DENIED_WAITS = [5, 10, 20, 30, 45];

/** What the provider framework expects back from onEvent. */
export interface SeedResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: {
    /** Commit id of the initial commit created by this request; '' when the repository had commits. */
    readonly SeedCommitId: string;
    /** Branches created by this request, comma-separated. */
    readonly CreatedBranches: string;
    /** Wanted branches that already existed and were left untouched, comma-separated. */
    readonly ExistingBranches: string;
  };
}

export const logger = new Logger({ serviceName: 'ddk-pipelines-seed-repository' });

/** A CodeCommit client with this handler's retry settings; endpoint and region come from the environment. */
export function createClient(config: CodeCommitClientConfig = {}): CodeCommitClient {
  return new CodeCommitClient({ maxAttempts: MAX_ATTEMPTS, retryMode: 'standard', ...config });
}

let defaultClient: CodeCommitClient | undefined;
let pipelineClient: ReturnType<typeof createPipelineClient> | undefined;

/** The Lambda entry point: the seed or the hold, by the event's resource type. */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<SeedResponse | HoldResponse> {
  if (event.ResourceType === HOLD_RESOURCE_TYPE) {
    logger.resetKeys(); // temporary keys of an earlier invocation of this warm instance
    logger.appendKeys({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, resourceType: event.ResourceType });
    pipelineClient ??= createPipelineClient(MAX_ATTEMPTS);
    return holdFirstExecutions(event, { client: pipelineClient, logger, sleep: wait, now: Date.now });
  }
  if (event.ResourceType !== SEED_RESOURCE_TYPE) {
    throw new Error(`ddk-pipelines: the seeding function received a ${JSON.stringify(event.ResourceType)} resource; expected ${SEED_RESOURCE_TYPE} or ${HOLD_RESOURCE_TYPE}. Fix: point only RepositorySeeder's resources at its provider`);
  }
  defaultClient ??= createClient();
  return seedRepository(event, defaultClient);
}

/**
 * Handles one custom-resource event with `client`; `sleep` waits between the tries that
 * AccessDenied causes (replaced in tests).
 */
export async function seedRepository(
  event: CloudFormationCustomResourceEvent, client: CodeCommitClient, sleep: (seconds: number) => Promise<void> = wait,
): Promise<SeedResponse> {
  logger.resetKeys(); // temporary keys of an earlier invocation of this warm instance
  logger.appendKeys({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  if (event.RequestType === 'Delete') {
    // Branches and commits belong to the users of the repository once it is seeded.
    logger.info('Delete: nothing to do; the repository and its branches are kept');
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const spec = RepositorySeedPlanner.parseProperties(event.ResourceProperties);
  logger.appendKeys({ repositoryName: spec.repositoryName });
  const requestType = event.RequestType === 'Create' ? SeedRequestType.CREATE : SeedRequestType.UPDATE;
  try {
    const result = await seedWhenAllowed(client, requestType, spec, sleep);
    logger.info('Repository seeded', { ...result });
    return {
      PhysicalResourceId: spec.repositoryName,
      Data: { SeedCommitId: result.seedCommitId, CreatedBranches: cutList(result.created), ExistingBranches: cutList(result.existing) },
    };
  } catch (err) {
    logger.error('Seeding failed', err as Error);
    throw err;
  }
}

/**
 * Seeds, trying again after AccessDenied while IAM may still be applying the handler role's
 * policy (the seed reads the repository afresh each time, so a new try never repeats work).
 */
async function seedWhenAllowed(
  client: CodeCommitClient, requestType: SeedRequestType, spec: RepositorySeedSpec, sleep: (seconds: number) => Promise<void>,
): Promise<SeedResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await seed(client, requestType, spec);
    } catch (err) {
      if (!isServiceError(err, 'AccessDeniedException') || attempt >= ACCESS_DENIED_WAITS.length) throw err;
      logger.warn('AccessDenied: the handler role\'s policy may not be in effect yet; trying again', { waitSeconds: ACCESS_DENIED_WAITS[attempt], attempt: attempt + 1 });
      await sleep(ACCESS_DENIED_WAITS[attempt]);
    }
  }
}

function wait(seconds: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, seconds * 1000));
}

/** What one seed did. */
interface SeedResult {
  readonly seedCommitId: string;
  readonly created: string[];
  readonly existing: string[];
}

async function seed(client: CodeCommitClient, requestType: SeedRequestType, spec: RepositorySeedSpec): Promise<SeedResult> {
  const repositoryName = spec.repositoryName;
  const created: string[] = [];
  let seedCommitId = '';
  // A second round only when someone else created the first branch while we planned (see below).
  for (let round = 1; ; round++) {
    const state = await readState(client, repositoryName);
    const plan = RepositorySeedPlanner.plan(requestType, state, spec);
    logger.info('Plan', { state, actions: plan.actions, existingBranches: plan.existingBranches });
    const heads = new Map<string, string>();
    try {
      for (const action of plan.actions) {
        if (action.type === SeedActionType.CREATE_INITIAL_COMMIT) {
          // No parentCommitId: CodeCommit refuses (ParentCommitIdRequiredException) if the branch
          // exists by now, so a user's commit is never overwritten.
          const out = await client.send(new CreateCommitCommand({
            repositoryName,
            branchName: action.branch,
            commitMessage: spec.commitMessage,
            authorName: spec.authorName,
            putFiles: spec.files.map(f => ({ filePath: f.path, fileContent: Buffer.from(f.content, 'utf8') })),
          }));
          seedCommitId = required(out.commitId, `CreateCommit on ${repositoryName}/${action.branch} returned no commitId`);
          heads.set(action.branch, seedCommitId);
          created.push(action.branch);
        } else {
          const from = required(action.fromBranch, `no source branch for ${action.branch}`);
          const commitId = heads.get(from) ?? await headOf(client, repositoryName, from);
          heads.set(from, commitId);
          try {
            await client.send(new CreateBranchCommand({ repositoryName, branchName: action.branch, commitId }));
            created.push(action.branch);
          } catch (err) {
            if (!isServiceError(err, 'BranchNameExistsException')) throw err;
            // created by someone else since we listed the branches: theirs stays as it is
            logger.warn('Branch appeared meanwhile; left untouched', { branch: action.branch });
          }
        }
      }
      return { seedCommitId, created, existing: plan.existingBranches };
    } catch (err) {
      if (isServiceError(err, 'ParentCommitIdRequiredException') && round === 1) {
        logger.warn('The repository received its first commit while seeding; planning again without the initial commit');
        continue;
      }
      throw err;
    }
  }
}

/** The repository's default branch and branch names (all pages). */
async function readState(client: CodeCommitClient, repositoryName: string): Promise<RepositoryState> {
  const repo = await client.send(new GetRepositoryCommand({ repositoryName }));
  const branches: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListBranchesCommand({ repositoryName, nextToken }));
    branches.push(...page.branches ?? []);
    nextToken = page.nextToken;
  } while (nextToken);
  return { branches, defaultBranch: repo.repositoryMetadata?.defaultBranch };
}

async function headOf(client: CodeCommitClient, repositoryName: string, branchName: string): Promise<string> {
  const out = await client.send(new GetBranchCommand({ repositoryName, branchName }));
  return required(out.branch?.commitId, `GetBranch ${repositoryName}/${branchName} returned no commitId`);
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined || value === null || value === '') throw new Error(`ddk-pipelines: ${message}`);
  return value;
}
