import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ArtifactStore } from './artifact-store';
import { BUILD_IMAGE, BuildLogs, nodeRuntimeBuildSpec } from './build-environment';
import { CDK_CLI_VERSION } from './versions';
import type { DeliveryPlan, PlanStage, PlanTarget } from '../model/plan';

/*
 * The CodeBuild projects of the aws-codepipeline renderers (CodePipelineDelivery and, for plans
 * with services, ReleaseDelivery): the plan's Node.js on the curated image, encrypted with the
 * artifact key, logging to the one build log group, with the plan's build variables. Not part of
 * the library's public API (lib/index.ts does not export this module).
 */

/** Options of `DeliveryProjects.project`. */
export interface DeliveryProjectOptions {
  /** @default codebuild.ComputeType.SMALL */
  readonly compute?: codebuild.ComputeType;
  /** @default Duration.minutes(60) */
  readonly timeout?: Duration;
  /** The buildspec's `artifacts` section. @default - none */
  readonly artifacts?: object;
  /** Variables besides the plan's build variables (`DDK_PIPELINE_NAME`). @default - none */
  readonly variables?: { [name: string]: string };
}

/** The commands of a deploy project: `cdk deploy` of the nested assembly `$DDK_ASSEMBLY` with the pinned CLI. */
export const DEPLOY_COMMANDS: string[] = [
  'echo "Deploying environment $DDK_ENVIRONMENT from $DDK_ASSEMBLY"',
  `npx --yes aws-cdk@${CDK_CLI_VERSION} deploy --app "$DDK_ASSEMBLY" --all --require-approval never --ci --progress events`,
];

/** Makes the CodeBuild projects of one plan's pipelines. */
export class DeliveryProjects {
  constructor(private readonly plan: DeliveryPlan, private readonly artifacts: ArtifactStore, private readonly buildLogs: BuildLogs) {}

  /**
   * A CodeBuild project (the project's Node.js, encrypted with the artifact key, logging to the
   * build log group) running `commands`, with the plan's build variables (its name) and `variables`.
   */
  public project(
    scope: Construct, id: string, description: string, commands: string[], options: DeliveryProjectOptions = {},
  ): codebuild.PipelineProject {
    const variables: { [name: string]: codebuild.BuildEnvironmentVariable } = {};
    for (const [k, v] of Object.entries({ ...this.plan.buildEnvironmentVariables, ...(options.variables ?? {}) })) variables[k] = { value: v };
    return new codebuild.PipelineProject(scope, id, {
      description: `${this.plan.name}: ${description}`,
      environment: { buildImage: BUILD_IMAGE, computeType: options.compute ?? codebuild.ComputeType.SMALL },
      environmentVariables: variables,
      encryptionKey: this.artifacts.key,
      timeout: options.timeout ?? Duration.minutes(60),
      logging: this.buildLogs.loggingOptions,
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: { ...nodeRuntimeBuildSpec().phases, build: { commands } },
        ...(options.artifacts ? { artifacts: options.artifacts } : {}),
      }),
    });
  }

  /** An install, unit-test and synth build whose output is `cdk.out`, the assembly the stages deploy. */
  public synthProject(
    scope: Construct, id: string, description: string, commands: string[], variables?: { [name: string]: string },
  ): codebuild.PipelineProject {
    return this.project(scope, id, description, commands, {
      compute: codebuild.ComputeType.MEDIUM,
      artifacts: { 'base-directory': 'cdk.out', 'files': ['**/*'] },
      variables,
    });
  }

  /**
   * The deploy project of a plan stage (`DEPLOY_COMMANDS`: each action sets `DDK_ENVIRONMENT`
   * and `DDK_ASSEMBLY`), allowed to assume only that stage's targets' CDK bootstrap roles.
   */
  public deployProject(scope: Construct, id: string, stage: PlanStage, description: string): codebuild.PipelineProject {
    const project = this.project(scope, id, description, DEPLOY_COMMANDS, { timeout: Duration.minutes(120) });
    // `cdk deploy` assumes the target's deploy, file-publishing, image-publishing and lookup roles:
    // one ARN pattern per target keeps the policy under IAM's 10 KB up to a full 48-target stage.
    const arns = stage.targets.map(bootstrapRolesArn);
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: arns }));
    for (const arn of arns) {
      Validations.of(project).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arn.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
        reason: 'The CDK bootstrap roles (deploy, file and image publishing, lookup) of exactly one target account and region of this stage; they trust only the CICD account.',
      });
    }
    return project;
  }

  /** The project running a plan stage's tests. */
  public testsProject(scope: Construct, id: string, stage: PlanStage, description: string): codebuild.PipelineProject {
    return this.project(scope, id, description, stage.tests);
  }
}

/** The CDK bootstrap roles of one target: `cdk-<qualifier>-*-role-<account>-<region>`. */
export function bootstrapRolesArn(t: PlanTarget): string {
  const qualifier = t.environment.bootstrapQualifier ?? 'hnb659fds';
  return `arn:${Aws.PARTITION}:iam::${t.account}:role/cdk-${qualifier}-*-role-${t.account}-${t.region}`;
}
