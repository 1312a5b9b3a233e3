/*
 * The review deployment's stage: what a review build synthesizes next to the pipeline (stack
 * names carrying the review, the tags the teardown selects on, the nested assembly it deploys).
 */
import { App, CfnOutput, Stack, Stage } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DdkConfig, EnvironmentConfig, IApplicationFactory } from '../../lib';
import { DeliveryPlan, DeliveryPlanOptions } from '../../lib/model';
import { addReviewStage, reviewAssemblyId } from '../../lib/reviews/review-stage';
import { REVIEW_TAGS } from '../../lib/reviews/shared';
import { CDK_CONTEXT } from '../helpers';

const DOC = {
  environments: {
    cicd: { account: '111111111111', region: 'eu-west-1' },
    dev: { account: '222222222222', region: 'eu-west-1', tags: { team: 'cart' } },
    prod: { account: '333333333333', region: 'eu-west-1' },
  },
  pipeline: { name: 'shop', review: { environment: 'dev' } },
};

/** Two stacks, Api using Data: Api must be deleted first. */
class TwoStacks implements IApplicationFactory {
  public createApplication(stage: Stage, _environment: EnvironmentConfig): void {
    const data = new Stack(stage, 'Data');
    const api = new Stack(stage, 'Api');
    api.addDependency(data);
    new sns.Topic(data, 'Topic', { enforceSSL: true });
    new sns.Topic(api, 'Topic', { enforceSSL: true });
    new CfnOutput(api, 'ReviewUrl', { value: 'https://example.com' });
  }
}

class FixedName implements IApplicationFactory {
  public createApplication(stage: Stage): void {
    new Stack(stage, 'Data', { stackName: 'shop-data' });
  }
}

function synth(application: IApplicationFactory, options: DeliveryPlanOptions = { review: { id: 'pr12', commit: 'c0ffee' } }) {
  const app = new App({ context: CDK_CONTEXT });
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(DOC, 'ddk.json'), options);
  const stack = new Stack(app, 'shop-pipeline', { env: { account: '111111111111', region: 'eu-west-1' } });
  new sns.Topic(stack, 'Topic', { enforceSSL: true });
  const delivery = new Construct(stack, 'Delivery');
  const stage = addReviewStage(delivery, plan, application);
  return { app, stage, delivery };
}

describe('a review build synthesizes the review deployment', () => {
  const { app, stage, delivery } = synth(new TwoStacks());
  const assembly = app.synth();

  test('in the review environment, as a nested assembly whose id the review build is given', () => {
    expect(stage).toBeDefined();
    expect(stage!.account).toBe('222222222222');
    expect(stage!.artifactId).toBe(reviewAssemblyId(delivery));
    expect(assembly.getNestedAssembly(reviewAssemblyId(delivery)).stacks.map(s => s.stackName).sort()).toEqual(['shop-review-pr12-Api', 'shop-review-pr12-Data']);
  });

  test('every stack carries the pipeline, the review, the commit and its deletion order as stack tags', () => {
    const stacks = assembly.getNestedAssembly(reviewAssemblyId(delivery)).stacks;
    const tags = Object.fromEntries(stacks.map(s => [s.stackName, s.tags]));
    expect(tags['shop-review-pr12-Data']).toMatchObject({
      [REVIEW_TAGS.PIPELINE]: 'shop', [REVIEW_TAGS.REVIEW]: 'pr12', [REVIEW_TAGS.COMMIT]: 'c0ffee', [REVIEW_TAGS.ORDER]: '0',
    });
    // the stack that uses another is deleted before it
    expect(tags['shop-review-pr12-Api'][REVIEW_TAGS.ORDER]).toBe('1');
  });

  test('the environment\'s own tags apply to its resources too, and the application can tell it is a review', () => {
    const data = assembly.getNestedAssembly(reviewAssemblyId(delivery)).getStackByName('shop-review-pr12-Data');
    const topic = Object.values<any>(data.template.Resources).find(r => r.Type === 'AWS::SNS::Topic');
    expect(topic.Properties.Tags).toContainEqual({ Key: 'team', Value: 'cart' });
    expect(stage!.review).toEqual({ id: 'pr12', stackPrefix: 'shop-review-pr12', commit: 'c0ffee', branch: undefined, pullRequest: undefined });
  });
});

describe('refusals', () => {
  test('no review deployment asked for: no stage', () => {
    expect(synth(new TwoStacks(), {}).stage).toBeUndefined();
  });

  test('a fixed stack name would deploy over the environment\'s own stack: refused with the stack, the name and the fix', () => {
    expect(() => synth(new FixedName())).toThrow(/stack shop-pipeline\/Delivery\/DdkReviewStage\/Data is named "shop-data", which does not start with "shop-review-pr12-".*Fix: do not set stackName/s);
  });

});
