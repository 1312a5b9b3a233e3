import { ArnFormat, CfnResource, CustomResource, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { handlerCode } from '../lambda-assets';
import { FirstExecutionHold, HOLD_RESOURCE_TYPE } from './first-execution-hold';
import { RepositorySeedPlanner, RepositorySeedSpec, SEED_RESOURCE_TYPE } from './repository-seed';

/** Props of a `RepositorySeeder`. */
export interface RepositorySeederProps {
  /** The CodeCommit repository to seed (usually one the same stack creates). */
  readonly repository: codecommit.IRepository;

  /**
   * Files of the initial commit: path in the repository → UTF-8 text content.
   *
   * Used only when the repository is empty; later changes to them never reach a seeded
   * repository. At most 128 KiB in all: they travel in the template and the Lambda event.
   */
  readonly files: { [path: string]: string };

  /**
   * Branches that must exist, created from the head of `defaultBranch` when missing.
   *
   * `defaultBranch` is always created and need not be listed. Adding a branch later creates it on
   * the next deployment; removing one deletes nothing.
   */
  readonly branches: string[];

  /**
   * Branch of the initial commit; missing branches start from its head.
   *
   * When the repository already has commits but not this branch, it is created (like the others)
   * from the head of the repository's own default branch, which is not changed.
   *
   * @default 'main'
   */
  readonly defaultBranch?: string;

  /**
   * Message of the initial commit.
   *
   * @default 'Initial commit by ddk-pipelines'
   */
  readonly commitMessage?: string;

  /**
   * Author (and committer) name of the initial commit.
   *
   * @default 'ddk-pipelines'
   */
  readonly authorName?: string;

  /**
   * How long the logs of the seeding function and of the provider framework are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Seeds a CodeCommit repository with an initial commit and creates branches from it, so that a
 * pipeline watching those branches (Gitflow) has something to start from.
 *
 * A CloudFormation custom resource (`Custom::DdkRepositorySeed`, construct id `Resource`) backed
 * by the aws-cdk-lib provider framework and a Lambda function (`Handler`, bundled from
 * lambda/seed-repository). On every create and update it looks at the repository: the initial
 * commit is made only when the repository has no branch at all, missing branches are created,
 * and existing branches are never moved, so a user's commits are never overwritten. Deleting the
 * stack (or this construct) deletes neither branches nor the repository.
 *
 * The function may call only `codecommit:GetRepository`, `ListBranches`, `GetBranch`,
 * `CreateCommit` and `CreateBranch`, on this repository only; and, once `holdFirstExecutions` is
 * called, `codepipeline:ListPipelineExecutions` and `StopPipelineExecution` on the pipelines
 * given.
 */
export class RepositorySeeder extends Construct {
  /** The custom resource type of the seed. */
  public static readonly RESOURCE_TYPE = SEED_RESOURCE_TYPE;

  /** The custom resource type of the first-execution hold (see `holdFirstExecutions`). */
  public static readonly HOLD_RESOURCE_TYPE = HOLD_RESOURCE_TYPE;

  /** The seeding function (the provider's onEvent handler). */
  public readonly handler: lambda.Function;

  /** The custom resource; depend on it to act after the branches exist. */
  public readonly resource: CustomResource;

  private readonly role: iam.Role;
  private readonly serviceToken: string;
  private hold?: { readonly resource: CustomResource; readonly statement: iam.PolicyStatement; readonly names: string[] };

  constructor(scope: Construct, id: string, props: RepositorySeederProps) {
    super(scope, id);
    const spec: RepositorySeedSpec = {
      repositoryName: props.repository.repositoryName,
      files: Object.keys(props.files).sort().map(path => ({ path, content: props.files[path] })),
      branches: props.branches,
      defaultBranch: props.defaultBranch ?? 'main',
      commitMessage: props.commitMessage ?? 'Initial commit by ddk-pipelines',
      authorName: props.authorName ?? 'ddk-pipelines',
    };
    this.validate(spec);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;

    const logGroup = new logs.LogGroup(this, 'HandlerLogs', { retention });
    const role = this.role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Seeds the CodeCommit repository of ${this.node.path}`,
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: [
        'codecommit:GetRepository',
        'codecommit:ListBranches',
        'codecommit:GetBranch',
        'codecommit:CreateCommit',
        'codecommit:CreateBranch',
      ],
      resources: [props.repository.repositoryArn],
    }));
    logGroup.grantWrite(role);

    this.handler = new lambda.Function(this, 'Handler', {
      description: 'ddk-pipelines: seeds a CodeCommit repository (initial commit, branches)',
      runtime: lambda.Runtime.NODEJS_22_X,
      code: handlerCode('seed-repository'),
      handler: 'index.handler',
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      memorySize: 256,
      // the SDK's retries back off up to 20 s per attempt when CodeCommit throttles
      timeout: Duration.minutes(5),
    });
    Validations.of(this.handler).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The handler is bundled by esbuild for node22 (npx projen bundle, --target=node22) and uses the AWS SDK v3 of the nodejs22.x runtime, a supported runtime; moving to a newer one is a deliberate change of the bundle target and its tests.',
    });

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', { retention });
    const providerRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Provider framework of the repository seed ${this.node.path}`,
    });
    providerLogs.grantWrite(providerRole);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
      frameworkOnEventRole: providerRole,
      logGroup: providerLogs,
    });
    const fnId = Stack.of(this).getLogicalId(this.handler.node.defaultChild as lambda.CfnFunction);
    Validations.of(providerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'aws-cdk-lib\'s provider framework may invoke the seeding function\'s versions and aliases (grantInvoke adds `<function ARN>:*`); the statement names that one function only.',
    });

    this.serviceToken = provider.serviceToken;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RepositorySeeder.RESOURCE_TYPE,
      properties: { ...spec },
    });
  }

  /**
   * Holds the first execution of `pipelines` until the team's first push.
   *
   * CodePipeline starts an execution when it creates a pipeline. When this seeder has just made
   * the initial commit, that execution would build a repository that holds only the seed files,
   * and fail. This adds a second custom resource (`Custom::DdkHoldSeedExecution`, construct id
   * `HoldFirstExecutions`, served by the same function) that, when it is created, stops (abandoning
   * in-progress actions, with the reason "ddk-pipelines: waiting for the team's first push; the
   * repository holds only the seed commit <id>") every in-progress execution of these pipelines
   * whose source revision is the seed commit. It looks for them every 5 seconds for up to 150
   * seconds. A Stopped execution is not a failed one; the team's first push starts a normal
   * execution. When the repository had commits before (no seed commit), or on update and delete,
   * it does nothing. It never fails the deployment: what it could not do is logged and reported
   * in its attributes `StoppedExecutions`, `EndedExecutions` and `NotHeldPipelines`.
   *
   * Each pipeline's `AWS::CodePipeline::Pipeline` resource is made to depend on the seed (its
   * branches must exist when CodePipeline starts the creation execution, or Source fails), and
   * the hold on the pipelines. The function may then call `codepipeline:ListPipelineExecutions`
   * and `codepipeline:StopPipelineExecution` on these pipelines only, named by ARNs built from
   * their names (a reference to the pipeline resources would make a dependency cycle: pipeline →
   * seed → function → its policy → pipeline). So each pipeline needs a `pipelineName` and must be
   * in this construct's stack.
   *
   * May be called more than once: the pipelines of every call share one hold resource.
   *
   * @param pipelines the pipelines that run from the seeded repository, created in this stack
   * @returns the hold's custom resource
   */
  public holdFirstExecutions(pipelines: codepipeline.Pipeline[]): CustomResource {
    const where = `RepositorySeeder ${this.node.path}: holdFirstExecutions`;
    const stack = Stack.of(this);
    const problems: string[] = [];
    if (pipelines.length === 0) problems.push(`${where}: no pipelines given; expected the pipelines that run from the seeded repository. Fix: pass them, or do not call holdFirstExecutions`);
    const held: { name: string; cfn: CfnResource }[] = [];
    for (const pipeline of pipelines) {
      const cfn = pipeline.node.defaultChild;
      if (!CfnResource.isCfnResource(cfn) || cfn.cfnResourceType !== 'AWS::CodePipeline::Pipeline') {
        problems.push(`${where}: ${pipeline.node.path} is not a pipeline this app creates (no AWS::CodePipeline::Pipeline resource); expected a codepipeline.Pipeline. Fix: pass the pipelines created with the repository`);
        continue;
      }
      const name: string | undefined = (cfn as codepipeline.CfnPipeline).name;
      // without pipelineName, the L2 renders a token that resolves to nothing (CloudFormation names it)
      if (name === undefined || (Token.isUnresolved(name) && stack.resolve(name) === undefined)) {
        problems.push(`${where}: pipeline ${pipeline.node.path} has no pipelineName; the hold's permissions name each pipeline by an ARN built from its name (a reference to the pipeline would make a dependency cycle). Fix: give the pipeline a pipelineName`);
        continue;
      }
      if (Stack.of(pipeline) !== stack) {
        problems.push(`${where}: pipeline ${pipeline.node.path} is in stack ${Stack.of(pipeline).node.path}, not in ${stack.node.path}; the pipeline must wait for the seed and the hold for the pipeline, which across stacks is a cycle. Fix: create the pipeline in the seeder's stack`);
        continue;
      }
      held.push({ name, cfn });
    }
    const literal = held.map(h => h.name).filter(n => !Token.isUnresolved(n));
    problems.push(...FirstExecutionHold.nameProblems([...(this.hold?.names ?? []), ...literal], where));
    if (problems.length > 0) {
      throw new Error(`ddk-pipelines: invalid holdFirstExecutions call (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    }

    const hold = this.hold ??= this.createHold();
    const seed = this.resource.node.defaultChild as CfnResource;
    const holdResource = hold.resource.node.defaultChild as CfnResource;
    for (const { name, cfn } of held) {
      hold.names.push(name);
      hold.statement.addResources(stack.formatArn({ service: 'codepipeline', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME }));
      cfn.addResourceDependency(seed, 'the branches must exist when CodePipeline starts the creation execution');
      holdResource.addResourceDependency(cfn, 'the hold stops the execution CodePipeline starts when it creates the pipeline');
    }
    return hold.resource;
  }

  /** The hold's custom resource and its statement in the function's policy (resources added per pipeline). */
  private createHold(): NonNullable<RepositorySeeder['hold']> {
    const names: string[] = [];
    const statement = new iam.PolicyStatement({
      actions: ['codepipeline:ListPipelineExecutions', 'codepipeline:StopPipelineExecution'],
    });
    this.role.addToPolicy(statement);
    const resource = new CustomResource(this, 'HoldFirstExecutions', {
      serviceToken: this.serviceToken,
      resourceType: HOLD_RESOURCE_TYPE,
      properties: {
        pipelineNames: Lazy.list({ produce: () => names }),
        seedCommitId: this.resource.getAttString('SeedCommitId'),
      },
    });
    return { resource, statement, names };
  }

  /** Throws every problem of the props together (values that are tokens are checked at deployment). */
  private validate(spec: RepositorySeedSpec): void {
    const resolved = (s: string) => !Token.isUnresolved(s);
    const problems = RepositorySeedPlanner.problems({
      ...spec,
      files: spec.files.map((f, i) => ({ path: resolved(f.path) ? f.path : `token-${i}`, content: resolved(f.content) ? f.content : '' })),
      branches: spec.branches.filter(resolved),
      defaultBranch: resolved(spec.defaultBranch) ? spec.defaultBranch : 'main',
    }, `RepositorySeeder ${this.node.path}`);
    if (problems.length > 0) {
      throw new Error(`ddk-pipelines: invalid RepositorySeeder props (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    }
  }
}
