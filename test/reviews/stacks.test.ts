import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
// eslint-disable-next-line import/no-extraneous-dependencies -- the STS client @aws-sdk/credential-providers' fromTemporaryCredentials uses (installed with it)
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { SETTINGS, stack } from './controller-fixtures';
import { REVIEW_TAGS, reviewStackPrefix } from '../../lib/reviews/shared';
import type { StackDescription } from '../../lib/reviews/stacks';
import {
  buildConsoleUrl, deployRoleArn, deployRoleCredentials, DeployRoleStacks, isReviewStackOf, planTeardown, reviewStacksByReview, reviewUrl,
  ReviewStacksError, sessionName, stacksConsoleUrl,
} from '../../lib/reviews/stacks';

/*
 * Review stacks: which belong to a review, which go next, the review URL, and the CloudFormation
 * adapter (DescribeStacks and DeleteStack through the environment's CDK deploy role, assumed with
 * STS). Deletion never touches a stack lacking the pipeline tag, the review tag or the name prefix.
 */

const cloudFormation = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);

beforeEach(() => {
  cloudFormation.reset();
  sts.reset();
});

describe('which stacks belong to a review', () => {
  test('both tags and the name prefix are required; a longer review id with the same start is another review', () => {
    const mine = stack('pr1', 'Api', 0);
    expect(isReviewStackOf(mine, 'myapp', 'pr1')).toBe(true);
    expect(isReviewStackOf({ ...mine, tags: { ...mine.tags, [REVIEW_TAGS.PIPELINE]: 'other' } }, 'myapp', 'pr1')).toBe(false);
    expect(isReviewStackOf({ ...mine, tags: { [REVIEW_TAGS.PIPELINE]: 'myapp' } }, 'myapp', 'pr1')).toBe(false);
    expect(isReviewStackOf({ ...mine, name: 'myapp-Api' }, 'myapp', 'pr1')).toBe(false);
    // "myapp-review-pr12-Api" starts with "myapp-review-pr1" but not with "myapp-review-pr1-"
    expect(isReviewStackOf({ ...stack('pr12', 'Api', 0), tags: mine.tags }, 'myapp', 'pr1')).toBe(false);
    expect(isReviewStackOf({ ...mine, name: 'myapp-review-pr1' }, 'myapp', 'pr1')).toBe(false);
  });

  test('the stacks of an environment, grouped by review, highest order first; deleted and foreign stacks left out', () => {
    const all: StackDescription[] = [
      stack('pr1', 'Db', 0),
      stack('pr1', 'Api', 2),
      stack('pr1', 'Queue', 1),
      stack('pr2', 'Api', 0),
      stack('pr2', 'Old', 0, { status: 'DELETE_COMPLETE' }),
      { name: 'myapp-dev-Api', status: 'CREATE_COMPLETE', tags: {}, outputs: {} },
      { ...stack('pr3', 'Api', 0), tags: { ...stack('pr3', 'Api', 0).tags, [REVIEW_TAGS.PIPELINE]: 'other' } },
    ];
    const by = reviewStacksByReview(all, 'myapp');
    expect([...by.keys()].sort()).toEqual(['pr1', 'pr2']);
    expect(by.get('pr1')!.map(s => [s.name, s.order])).toEqual([['myapp-review-pr1-Api', 2], ['myapp-review-pr1-Queue', 1], ['myapp-review-pr1-Db', 0]]);
    expect(by.get('pr2')!.map(s => s.name)).toEqual(['myapp-review-pr2-Api']);
  });
});

describe('teardown order', () => {
  test('the highest order goes first, all of it together; a lower order only when no higher remains', () => {
    const plan = planTeardown([stack('pr1', 'Db', 0), stack('pr1', 'Api', 1), stack('pr1', 'Web', 1)], 'myapp', 'pr1');
    expect(plan.delete.map(s => s.name)).toEqual(['myapp-review-pr1-Api', 'myapp-review-pr1-Web']);
    expect(plan.remaining).toHaveLength(3);
  });

  test('stacks being deleted are waited for; a REVIEW_IN_PROGRESS stack (an unexecuted change set) and a DELETE_FAILED one are deleted', () => {
    const plan = planTeardown([stack('pr1', 'Db', 0), stack('pr1', 'Api', 1, { status: 'DELETE_IN_PROGRESS' }), stack('pr1', 'Web', 1, { status: 'DELETE_FAILED' })], 'myapp', 'pr1');
    expect(plan.delete.map(s => s.name)).toEqual(['myapp-review-pr1-Web']);
    expect(plan.busy.map(s => s.name)).toEqual(['myapp-review-pr1-Api']);
    expect(planTeardown([stack('pr1', 'Api', 0, { status: 'REVIEW_IN_PROGRESS' })], 'myapp', 'pr1').delete).toHaveLength(1);
    expect(planTeardown([stack('pr1', 'Api', 0, { status: 'UPDATE_IN_PROGRESS' })], 'myapp', 'pr1').delete).toHaveLength(0);
  });

  test('a missing or malformed order tag counts as 0 (deleted last)', () => {
    const untagged = stack('pr1', 'X', 0, { tags: { [REVIEW_TAGS.PIPELINE]: 'myapp', [REVIEW_TAGS.REVIEW]: 'pr1', [REVIEW_TAGS.ORDER]: 'high' } });
    expect(planTeardown([untagged, stack('pr1', 'Api', 1)], 'myapp', 'pr1').delete.map(s => s.name)).toEqual(['myapp-review-pr1-Api']);
  });

  test('property: whatever the input, teardown selects only stacks with both tags and the prefix (fast-check, seed 1)', () => {
    const pipelines = ['myapp', 'myapp2', 'other'];
    const reviews = ['pr1', 'pr12', 'pr2', 'b-main-abc123'];
    const name = fc.oneof(
      fc.tuple(fc.constantFrom(...pipelines), fc.constantFrom(...reviews), fc.string({ maxLength: 8 })).map(([p, r, s]) => `${reviewStackPrefix(p, r)}-${s}`),
      fc.tuple(fc.constantFrom(...pipelines), fc.constantFrom(...reviews)).map(([p, r]) => reviewStackPrefix(p, r)),
      fc.tuple(fc.constantFrom(...pipelines), fc.string({ maxLength: 12 })).map(([p, s]) => `${p}-${s}`),
      fc.string({ maxLength: 40 }),
    );
    const tagValue = (values: string[]) => fc.option(fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 6 })), { nil: undefined });
    const description: fc.Arbitrary<StackDescription> = fc.record({
      name,
      status: fc.oneof(fc.constantFrom('CREATE_COMPLETE', 'UPDATE_COMPLETE', 'DELETE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE', 'ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'UPDATE_IN_PROGRESS'), fc.string({ maxLength: 10 })),
      pipelineTag: tagValue(pipelines),
      reviewTag: tagValue(reviews),
      order: fc.option(fc.oneof(fc.nat({ max: 5 }).map(String), fc.string({ maxLength: 3 })), { nil: undefined }),
    }).map(s => ({
      name: s.name,
      status: s.status,
      tags: Object.fromEntries([
        [REVIEW_TAGS.PIPELINE, s.pipelineTag],
        [REVIEW_TAGS.REVIEW, s.reviewTag],
        [REVIEW_TAGS.ORDER, s.order],
      ].filter(([, v]) => v !== undefined)) as Record<string, string>,
      outputs: {},
    }));
    const input = [fc.array(description, { maxLength: 25 }), fc.constantFrom(...pipelines), fc.constantFrom(...reviews)] as const;
    fc.assert(fc.property(...input, (stacks, pipeline, reviewId) => {
      const safe = (s: StackDescription) => s.tags[REVIEW_TAGS.PIPELINE] === pipeline
        && s.tags[REVIEW_TAGS.REVIEW] === reviewId
        && s.name.startsWith(`${reviewStackPrefix(pipeline, reviewId)}-`);
      const plan = planTeardown(stacks, pipeline, reviewId);
      for (const s of [...plan.delete, ...plan.busy, ...plan.remaining]) {
        if (!safe(s)) return false;
      }
      // what is deleted is among what remains, never DELETE_COMPLETE, and of the highest order left
      const top = Math.max(...plan.remaining.map(s => s.order));
      if (!plan.delete.every(s => plan.remaining.includes(s) && s.status !== 'DELETE_COMPLETE' && s.order === top)) return false;
      // grouping by review never puts a stack under a review it does not carry both tags and the prefix of
      for (const [id, list] of reviewStacksByReview(stacks, pipeline)) {
        if (!list.every(s => s.tags[REVIEW_TAGS.PIPELINE] === pipeline && s.tags[REVIEW_TAGS.REVIEW] === id && s.name.startsWith(`${reviewStackPrefix(pipeline, id)}-`))) return false;
      }
      return true;
    }), { seed: 1, numRuns: 500 });
  });
});

describe('links', () => {
  test('the review URL: the urlOutput value (http(s) only), else the CloudFormation console filtered on the prefix', () => {
    const [api, db] = [stack('pr1', 'Api', 1, { outputs: { ReviewUrl: 'https://pr1.example.com' } }), stack('pr1', 'Db', 0, { outputs: { ReviewUrl: 'not a url' } })];
    const stacks = reviewStacksByReview([db, api], 'myapp').get('pr1')!;
    expect(reviewUrl(stacks, { ...SETTINGS, urlOutput: 'ReviewUrl' }, 'myapp-review-pr1')).toEqual({ url: 'https://pr1.example.com' });
    const console = 'https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks?filteringText=myapp-review-pr1&filteringStatus=active&viewNested=true';
    expect(reviewUrl(stacks, SETTINGS, 'myapp-review-pr1')).toEqual({ url: console });
    expect(reviewUrl(stacks, { ...SETTINGS, urlOutput: 'Missing' }, 'myapp-review-pr1')).toEqual({ url: console, note: expect.stringContaining('no review stack has an output "Missing"') });
  });

  test('console links per partition; a build link from its id or ARN', () => {
    expect(stacksConsoleUrl('cn-north-1', 'p')).toMatch(/^https:\/\/console\.amazonaws\.cn\/cloudformation\/home\?region=cn-north-1#/);
    expect(stacksConsoleUrl('us-gov-west-1', 'p')).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\//);
    const url = 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/myapp-review/build/myapp-review%3Ab1/?region=eu-west-1';
    expect(buildConsoleUrl('eu-west-1', 'myapp-review:b1')).toBe(url);
    expect(buildConsoleUrl('eu-west-1', 'arn:aws:codebuild:eu-west-1:111111111111:build/myapp-review:b1')).toBe(url);
  });
});

describe('the CloudFormation adapter', () => {
  test('the deploy role is the CDK bootstrap\'s, in the environment\'s partition', () => {
    expect(deployRoleArn(SETTINGS.environment)).toBe('arn:aws:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1');
    expect(deployRoleArn({ ...SETTINGS.environment, region: 'cn-north-1' })).toBe('arn:aws-cn:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-cn-north-1');
    expect(sessionName('my app/x')).toBe('ddk-review-my-app-x');
  });

  test('credentials come from STS AssumeRole of the deploy role (15 minutes)', async () => {
    const expiration = new Date('2030-01-01T01:00:00Z');
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIAROLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: expiration } });
    const credentials = await deployRoleCredentials(SETTINGS)();
    expect(credentials).toMatchObject({ accessKeyId: 'ASIAROLE', secretAccessKey: 'secret', sessionToken: 'token', expiration });
    expect(sts.commandCalls(AssumeRoleCommand).map(c => c.args[0].input)).toEqual([{
      RoleArn: 'arn:aws:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1',
      RoleSessionName: 'ddk-review-myapp',
      DurationSeconds: 900,
    }]);
  });

  test('DescribeStacks: every page, tags and outputs as maps', async () => {
    cloudFormation.on(DescribeStacksCommand, { NextToken: undefined }).resolves({
      Stacks: [{ StackName: 'myapp-review-pr1-Api', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: [{ Key: REVIEW_TAGS.REVIEW, Value: 'pr1' }], Outputs: [{ OutputKey: 'ReviewUrl', OutputValue: 'https://x' }] }],
      NextToken: 'page-2',
    });
    cloudFormation.on(DescribeStacksCommand, { NextToken: 'page-2' }).resolves({
      Stacks: [{ StackName: 'other', StackStatus: 'DELETE_FAILED', StackStatusReason: 'bucket not empty', CreationTime: new Date() }],
    });
    const stacks = await new DeployRoleStacks(SETTINGS, new CloudFormationClient({ region: 'eu-west-1' })).list();
    expect(stacks).toEqual([
      { name: 'myapp-review-pr1-Api', status: 'CREATE_COMPLETE', tags: { [REVIEW_TAGS.REVIEW]: 'pr1' }, outputs: { ReviewUrl: 'https://x' } },
      { name: 'other', status: 'DELETE_FAILED', statusReason: 'bucket not empty', tags: {}, outputs: {} },
    ]);
  });

  test('DeleteStack only for a review stack of the review; anything else is refused before any call', async () => {
    cloudFormation.on(DeleteStackCommand).resolves({});
    const adapter = new DeployRoleStacks(SETTINGS, new CloudFormationClient({ region: 'eu-west-1' }));
    await adapter.delete(stack('pr1', 'Api', 0), 'myapp', 'pr1');
    expect(cloudFormation.commandCalls(DeleteStackCommand).map(c => c.args[0].input)).toEqual([{ StackName: 'myapp-review-pr1-Api' }]);
    await expect(adapter.delete({ name: 'myapp-dev-Api', status: 'CREATE_COMPLETE', tags: stack('pr1', 'Api', 0).tags, outputs: {} }, 'myapp', 'pr1'))
      .rejects.toThrow(/^refusing to delete stack "myapp-dev-Api": it is not a review stack of review "pr1" of pipeline "myapp"/);
    await expect(adapter.delete(stack('pr1', 'Api', 0), 'myapp', 'pr2')).rejects.toThrow(ReviewStacksError);
    expect(cloudFormation.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });

  test('a refusal says where, through which role, and how to fix it', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('User is not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
    await expect(new DeployRoleStacks(SETTINGS, new CloudFormationClient({ region: 'eu-west-1' })).list()).rejects.toThrow(
      'CloudFormation DescribeStacks in the review environment "dev" (222222222222/eu-west-1) through arn:aws:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1 failed (AccessDenied: User is not authorized to perform sts:AssumeRole). Fix: bootstrap 222222222222/eu-west-1 with qualifier "hnb659fds" trusting the CICD account (cdk bootstrap --trust <CICD account>), and check that the controller\'s role may sts:AssumeRole this role',
    );
  });
});
