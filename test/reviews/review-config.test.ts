/*
 * pipeline.review in ddk.json: its validation messages, the plan's defaults and the review
 * deployment a review build asks for.
 */
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';
import { reviewIdForBranch, reviewStackPrefix } from '../../lib/reviews/shared';
import { baseEnvironments, docWithPipeline, FILE, issuesOf, onlyIssue } from '../config/helpers';

function environments(): { [id: string]: any } {
  return { ...baseEnvironments(), review: { account: '444444444444', region: 'eu-west-1' }, prod: { account: '333333333333', region: 'eu-west-1' } };
}

function doc(review: unknown, extra: { [key: string]: any } = {}): any {
  return { environments: environments(), pipeline: { name: 'shop', stages: [{ name: 'dev', environments: ['dev'] }, { name: 'prod', environments: ['prod'] }], review, ...extra } };
}

function plan(review: unknown, extra: { [key: string]: any } = {}, options = {}): DeliveryPlan {
  return DeliveryPlan.fromConfig(DdkConfig.fromObject(doc(review, extra), FILE), options);
}

describe('validation of pipeline.review', () => {
  test('a complete section is valid, and a dedicated review environment in no stage is no warning', () => {
    const d = doc({ environment: 'review', branches: ['main', 'release/1.x'], ttlHours: 0, tests: ['npm run e2e'], urlOutput: 'ReviewUrl', allowForks: false });
    expect(issuesOf(d)).toEqual([]);
    expect(DdkConfig.fromObject(d, FILE).warnings).toEqual([]);
  });

  test('a missing environment is reported as missing, with what to write', () => {
    const issue = onlyIssue(doc({ ttlHours: 24 }));
    expect(issue).toMatchObject({ path: 'pipeline.review.environment', problem: 'is missing' });
    expect(issue.expected).toContain('environment that hosts review deployments');
  });

  test('an unknown environment names the ids that exist and the closest one', () => {
    const issue = onlyIssue(doc({ environment: 'reveiw' }));
    expect(issue).toMatchObject({ path: 'pipeline.review.environment', value: '"reveiw"' });
    expect(issue.problem).toMatch(/does not exist.*"review"/);
    expect(issue.expected).toBe('one of "dev", "review", "prod"');
  });

  test('the cicd environment is refused: it hosts the pipeline', () => {
    const issue = onlyIssue(doc({ environment: 'cicd' }));
    expect(issue).toMatchObject({ path: 'pipeline.review.environment', value: '"cicd"' });
    expect(issue.problem).toMatch(/CICD environment/);
    expect(issue.fix).toMatch(/add an environment/);
  });

  test.each([
    [-1, 'is negative'],
    [1.5, 'is not a whole number of hours'],
    ['72', 'is not a number of hours'],
    [9000, 'is more than a year'],
  ])('ttlHours %p: %s', (ttl, problem) => {
    const issue = onlyIssue(doc({ environment: 'dev', ttlHours: ttl }));
    expect(issue).toMatchObject({ path: 'pipeline.review.ttlHours', problem });
    expect(issue.expected).toBe('a whole number of hours from 0 (no sweep) to 8760');
  });

  test('an empty branch list would deploy no pull request', () => {
    const issue = onlyIssue(doc({ environment: 'dev', branches: [] }));
    expect(issue).toMatchObject({ path: 'pipeline.review.branches' });
    expect(issue.problem).toMatch(/no pull request/);
  });

  test('a branch name git refuses, an output id CloudFormation refuses and an empty test command are each named', () => {
    const issues = issuesOf(doc({ environment: 'dev', branches: ['main..x'], urlOutput: 'Review-Url', tests: [''] }));
    expect(issues.map(i => i.path).sort()).toEqual(['pipeline.review.branches[0]', 'pipeline.review.tests[0]', 'pipeline.review.urlOutput']);
  });

  test('an unknown key is an error with the key it was probably meant to be', () => {
    const issue = onlyIssue(doc({ environment: 'dev', ttl: 24 }));
    expect(issue.path).toBe('pipeline.review.ttl');
    expect(DdkConfig.formatIssue(issue)).toContain('ttlHours');
  });

  test('without pipeline.stages, the review environment is also a stage: a warning says how to keep it for reviews only', () => {
    const d = { environments: environments(), pipeline: { review: { environment: 'review' } } };
    expect(issuesOf(d)).toEqual([]);
    const warnings = DdkConfig.fromObject(d, FILE).warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/pipeline\.review\.environment.*also a stage.*list "pipeline\.stages" without it/);
  });
});

describe('the plan of pipeline.review', () => {
  test('defaults: pull requests into the source branch, 72 hours, no tests, no forks, the console link', () => {
    const p = plan({ environment: 'review' }, { source: { codecommit: { repository: 'shop', branch: 'trunk' } } });
    expect(p.review).toEqual({
      target: expect.objectContaining({ id: 'review', account: '444444444444', region: 'eu-west-1' }),
      branches: ['trunk'],
      ttlHours: 72,
      tests: [],
      allowForks: false,
      urlOutput: undefined,
    });
    expect(p.reviewDeployment).toBeUndefined();
  });

  test('no section, no review', () => {
    expect(DeliveryPlan.fromConfig(DdkConfig.fromObject(docWithPipeline({ name: 'shop' }), FILE)).review).toBeUndefined();
  });

  test('an environment id in the review stacks\' namespace is refused: its stacks could take a review\'s names', () => {
    const d = doc({ environment: 'dev' });
    d.environments['shop-review-pr1'] = { account: '555555555555', region: 'eu-west-1' };
    d.pipeline.stages.push({ name: 'x', environments: ['shop-review-pr1'] });
    expect(() => DeliveryPlan.fromConfig(DdkConfig.fromObject(d, FILE))).toThrow(/environments\.shop-review-pr1.*starts with "shop-review-".*rename the environment/s);
  });

  test('a review build\'s variables become the review deployment, with its stack prefix', () => {
    const options = DeliveryPlan.optionsFromEnvironment({
      DDK_PIPELINE_NAME: 'shop', DDK_REVIEW_ID: 'pr12', DDK_REVIEW_COMMIT: 'abc123', DDK_REVIEW_BRANCH: 'feature/cart', DDK_REVIEW_PULL_REQUEST: '12', OTHER: 'x',
    });
    expect(options).toEqual({ recordedName: 'shop', review: { id: 'pr12', commit: 'abc123', branch: 'feature/cart', pullRequest: '12' } });
    expect(plan({ environment: 'dev' }, {}, options).reviewDeployment).toEqual({
      id: 'pr12', stackPrefix: 'shop-review-pr12', commit: 'abc123', branch: 'feature/cart', pullRequest: '12',
    });
  });

  test('without DDK_REVIEW_ID (or with it empty) there is no review deployment', () => {
    expect(DeliveryPlan.optionsFromEnvironment({ DDK_REVIEW_ID: '' }).review).toBeUndefined();
    expect(DeliveryPlan.optionsFromEnvironment({}).review).toBeUndefined();
  });

  test('a review id that is not one is refused with the variable named', () => {
    expect(() => plan({ environment: 'dev' }, {}, { review: { id: 'PR 12' } })).toThrow(/DDK_REVIEW_ID: "PR 12" is not a review id.*Fix:/);
  });

  test('a review deployment asked for without a review section names the section and the variable', () => {
    expect(() => DeliveryPlan.fromConfig(DdkConfig.fromObject(docWithPipeline({ name: 'shop' }), FILE), { review: { id: 'pr1' } }))
      .toThrow(/pipeline\.review: is not set, but a review deployment \("pr1"\) was asked for \(DDK_REVIEW_ID is set\)/);
  });
});

describe('the naming rule', () => {
  test('pull requests and branches get distinct ids; branch ids keep slashes and dashes apart', () => {
    expect(reviewIdForBranch('feature/x')).not.toBe(reviewIdForBranch('feature-x'));
    expect(reviewIdForBranch('feature/x')).toMatch(/^b-feature-x-[0-9a-f]{6}$/);
    expect(reviewIdForBranch('___')).toMatch(/^b-[0-9a-f]{6}$/);
  });

  test('a long pipeline name is shortened with a hash, so two long names stay apart and the prefix stays short', () => {
    const a = reviewStackPrefix(`${'a'.repeat(60)}1`, 'pr1');
    const b = reviewStackPrefix(`${'a'.repeat(60)}2`, 'pr1');
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(40 + '-review-pr1'.length);
  });

  test('a pipeline name CloudFormation would refuse as a stack name starts with a letter after the rule', () => {
    expect(reviewStackPrefix('9lives_app', 'pr3')).toBe('p-9lives-app-review-pr3');
  });
});
