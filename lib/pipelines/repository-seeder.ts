import { CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { handlerCode } from '../lambda-assets';
import { RepositorySeedPlanner, RepositorySeedSpec } from './repository-seed';

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
 * `CreateCommit` and `CreateBranch`, on this repository only.
 */
export class RepositorySeeder extends Construct {
  /** The custom resource type. */
  public static readonly RESOURCE_TYPE = 'Custom::DdkRepositorySeed';

  /** The seeding function (the provider's onEvent handler). */
  public readonly handler: lambda.Function;

  /** The custom resource; depend on it to act after the branches exist. */
  public readonly resource: CustomResource;

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
    const role = new iam.Role(this, 'HandlerRole', {
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

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RepositorySeeder.RESOURCE_TYPE,
      properties: { ...spec },
    });
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
