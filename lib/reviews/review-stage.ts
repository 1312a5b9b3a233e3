import type { Construct } from 'constructs';
import type { DeliveryPlan } from '../model/plan';
import { ApplicationStage, IApplicationFactory } from '../pipelines/application-stage';

/** Construct id of the review deployment's stage, under a renderer (`Delivery`). */
export const REVIEW_STAGE_ID = 'DdkReviewStage';

/**
 * The nested cloud assembly (a folder of `cdk.out`) that holds the review deployment's stacks
 * when a renderer at `delivery` adds the review stage: aws-cdk-lib names a stage's assembly
 * `assembly-<construct path, "/" as "-">`. The review build deploys `cdk.out/<this>`.
 *
 * @param delivery the renderer construct the review stage is created in
 */
export function reviewAssemblyId(delivery: Construct): string {
  return `assembly-${`${delivery.node.path}/${REVIEW_STAGE_ID}`.replace(/\//g, '-').replace(/^-+|-+$/g, '')}`;
}

/**
 * Adds the review deployment's stage under `delivery` when the plan asks for one (inside a
 * review build, `plan.reviewDeployment`): the review environment's account, region, tags and
 * resources, stacks named `<review prefix>-<stack id>` and tagged for teardown. Otherwise adds
 * nothing and returns undefined.
 */
export function addReviewStage(delivery: Construct, plan: DeliveryPlan, application: IApplicationFactory): ApplicationStage | undefined {
  if (!plan.review || !plan.reviewDeployment) return undefined;
  return new ApplicationStage(delivery, REVIEW_STAGE_ID, {
    environment: plan.review.target.environment,
    application,
    review: { pipeline: plan.name, deployment: plan.reviewDeployment },
  });
}
