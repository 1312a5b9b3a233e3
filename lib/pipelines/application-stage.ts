import { Stack, Stage, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentResources } from './environment-resources';
import type { EnvironmentConfig } from '../config/ddk-config';
import type { PlanReviewDeployment } from '../model/plan';
import { REVIEW_TAGS } from '../reviews/shared';

/**
 * Builds the application for one environment.
 *
 * Called once per deployment target with the target's CDK Stage (account and region set) and
 * its configuration from ddk.json; it creates the application's stacks inside the stage.
 * Read per-environment construct props with `EnvironmentResources.of(scope).props(id)`.
 */
export interface IApplicationFactory {
  /**
   * Creates the application's stacks for one environment.
   *
   * @param stage the Stage to build the stacks in
   * @param environment the environment's configuration
   */
  createApplication(stage: Stage, environment: EnvironmentConfig): void;
}

/** Props of an `ApplicationStage`. */
export interface ApplicationStageProps {
  /** The environment deployed by this stage. */
  readonly environment: EnvironmentConfig;
  /** Builds the application's stacks. */
  readonly application: IApplicationFactory;
  /**
   * Make this the stage of a review deployment: stacks named `<review prefix>-<stack id>`
   * (the stage's name is the prefix) and tagged with the pipeline, the review and the commit.
   *
   * @default - an environment's own stage (stacks named `<id>-<stack id>`)
   */
  readonly review?: ApplicationStageReview;
  /**
   * The stage's name, which starts its stacks' names (`<stageName>-<stack id>`): a service's
   * stage is named `<service>-<environment id>` (see `ServiceStages`) so that the stacks of two
   * services deployed into one environment never take each other's names. Not with `review`
   * (a review stage is named after its review deployment).
   *
   * @default - the construct id (stacks named `<id>-<stack id>`), or the review's prefix with `review`
   */
  readonly stageName?: string;
}

/** The review deployment an `ApplicationStage` holds. */
export interface ApplicationStageReview {
  /** The pipeline's name (tagged on every stack). */
  readonly pipeline: string;
  /** The review deployment. */
  readonly deployment: PlanReviewDeployment;
}

/**
 * The CDK Stage of one environment: account and region from ddk.json, the environment's tags
 * on every resource, its bootstrap qualifier, and its `resources` settings available to the
 * constructs built by the application factory.
 */
export class ApplicationStage extends Stage {
  /**
   * The review deployment this stage holds, if it is a review stage. The application can read
   * it, e.g. to give physical names a per-review suffix: `(Stage.of(scope) as ApplicationStage).review`.
   *
   * @default - an environment's own stage
   */
  public readonly review?: PlanReviewDeployment;
  /** The environment deployed by this stage. */
  public readonly environment: EnvironmentConfig;
  /** The environment's construct settings. */
  public readonly resources: EnvironmentResources;

  constructor(scope: Construct, id: string, props: ApplicationStageProps) {
    if (props.review && props.stageName !== undefined) {
      throw new Error(`ApplicationStage ${id}: props.stageName ("${props.stageName}") and props.review are both set; a review stage is named after its review deployment ("${props.review.deployment.stackPrefix}"). Fix: pass one of them`);
    }
    super(scope, id, {
      env: { account: props.environment.account, region: props.environment.region },
      // stacks of a stage are named <stage name>-<stack id> unless they set stackName
      stageName: props.review?.deployment.stackPrefix ?? props.stageName,
    });
    this.review = props.review?.deployment;
    this.environment = props.environment;
    if (props.environment.bootstrapQualifier) {
      this.node.setContext('@aws-cdk/core:bootstrapQualifier', props.environment.bootstrapQualifier);
    }
    this.resources = EnvironmentResources.attach(this, props.environment);
    for (const [k, v] of Object.entries(props.environment.tags)) Tags.of(this).add(k, v);
    props.application.createApplication(this, props.environment);
    if (props.review) tagReviewStacks(this, props.review);
  }
}

/**
 * Tags every stack of a review stage (stack tags, which CloudFormation keeps on the stack: the
 * teardown finds the stacks by them) and checks their names: each must start with the review's
 * prefix (a fixed `stackName` would deploy over the environment's own stack or another review's;
 * aws-cdk-lib itself refuses a name over CloudFormation's 128 characters). `ddk-pipelines:review-order` is the stack's dependency
 * depth: the teardown deletes the highest first, so no stack goes before one that uses it.
 */
function tagReviewStacks(stage: ApplicationStage, review: ApplicationStageReview): void {
  const stacks = stage.node.findAll().filter((c): c is Stack => Stack.isStack(c) && Stage.of(c) === stage);
  const prefix = `${review.deployment.stackPrefix}-`;
  const problems: string[] = [];
  for (const stack of stacks) {
    if (!stack.stackName.startsWith(prefix)) {
      problems.push(`stack ${stack.node.path} is named "${stack.stackName}", which does not start with "${prefix}"; a review deployment's stacks must carry its name, or it would deploy over another deployment's stack. Fix: do not set stackName in your application (the stage names its stacks <stage>-<id>), or build it from the stage: \`\${Stage.of(this)!.stageName}-<name>\``);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const depth = new Map<Stack, number>();
  const depthOf = (s: Stack, seen: Set<Stack>): number => {
    const known = depth.get(s);
    if (known !== undefined) return known;
    if (seen.has(s)) return 0;
    seen.add(s);
    const d = Math.max(-1, ...s.dependencies.filter(x => stacks.includes(x)).map(x => depthOf(x, seen))) + 1;
    depth.set(s, d);
    return d;
  };
  for (const stack of stacks) {
    stack.tags.setTag(REVIEW_TAGS.PIPELINE, review.pipeline);
    stack.tags.setTag(REVIEW_TAGS.REVIEW, review.deployment.id);
    if (review.deployment.commit) stack.tags.setTag(REVIEW_TAGS.COMMIT, review.deployment.commit);
    stack.tags.setTag(REVIEW_TAGS.ORDER, String(depthOf(stack, new Set())));
  }
}
