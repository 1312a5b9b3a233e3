/*
 * The AWS DDK's per-environment manual_approvals and notifications_topic_arn: honoured by the
 * plan where they map onto ddk-pipelines' approvals and notifications, an error where they
 * contradict the pipeline section, a warning naming the key where they have no effect.
 */
import { FILE, issuesOf } from './helpers';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

const TOPIC = 'arn:aws:sns:eu-west-1:111111111111:pipeline-events';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:333333333333:prod-events';

/** cicd, dev, qa, prod; `extra` is merged into each environment. */
function environments(extra: { [id: string]: object } = {}): { [id: string]: any } {
  const envs: { [id: string]: any } = {
    cicd: { account: '111111111111', region: 'eu-west-1' },
    dev: { account: '222222222222', region: 'eu-west-1' },
    qa: { account: '222222222222', region: 'eu-west-1' },
    prod: { account: '333333333333', region: 'eu-west-1' },
  };
  for (const [id, e] of Object.entries(extra)) envs[id] = { ...envs[id], ...e };
  return envs;
}

function load(doc: object): { config: DdkConfig; plan: DeliveryPlan } {
  const config = DdkConfig.fromObject(doc, FILE);
  return { config, plan: DeliveryPlan.fromConfig(config, { defaultName: 'analytics' }) };
}

const approvals = (plan: DeliveryPlan) => plan.stages.map(s => [s.name, s.approval !== undefined]);

describe('manual_approvals without pipeline.stages (one stage per environment)', () => {
  test('absent everywhere: the default, an approval before every stage but the first', () => {
    expect(approvals(load({ environments: environments() }).plan)).toEqual([['dev', false], ['qa', true], ['prod', true]]);
  });

  test('true asks for an approval even before the first stage; false removes the default one', () => {
    // GIVEN the DDK's reading: manual_approvals true on dev, false on qa, absent on prod
    const { config, plan } = load({ environments: environments({ dev: { manual_approvals: true }, qa: { manual_approvals: false } }) });

    expect(approvals(plan)).toEqual([['dev', true], ['qa', false], ['prod', true]]);
    expect(plan.stages[0].approval!.comment).toContain('dev');
    expect(config.warnings).toEqual([]);
  });
});

describe('manual_approvals with pipeline.stages', () => {
  const stages = (approval?: unknown) => [
    { name: 'development', environments: ['dev', 'qa'] },
    { name: 'production', environments: ['prod'], ...(approval === undefined ? {} : { approval }) },
  ];

  test('true asks for an approval before the stage that deploys the environment, when the stage sets none', () => {
    const { config, plan } = load({ environments: environments({ prod: { manual_approvals: true } }), pipeline: { stages: stages() } });

    expect(approvals(plan)).toEqual([['development', false], ['production', true]]);
    expect(plan.stages[1].approval!.comment).toContain('production');
    expect(config.warnings).toEqual([]);
  });

  test('one environment of a stage asking is enough: the approval holds the whole stage', () => {
    const { plan } = load({ environments: environments({ qa: { manual_approvals: true } }), pipeline: { stages: stages() } });

    expect(approvals(plan)).toEqual([['development', true], ['production', false]]);
  });

  test('the stage\'s own approval settings win over the plain approval manual_approvals asks for', () => {
    const { plan } = load({ environments: environments({ prod: { manual_approvals: true } }), pipeline: { stages: stages({ comment: 'Check the dashboards', timeoutMinutes: 60 }) } });

    expect(plan.stages[1].approval).toMatchObject({ comment: 'Check the dashboards', timeoutMinutes: 60 });
  });

  test('"approval": false on a stage deploying an environment with manual_approvals true is an error', () => {
    const issues = issuesOf({ environments: environments({ prod: { manual_approvals: true } }), pipeline: { stages: stages(false) } });

    expect(issues).toEqual([{
      file: FILE,
      path: 'pipeline.stages[1].approval',
      value: 'false',
      problem: 'is false, but environments.prod.manual_approvals is true: the stage would deploy prod without the approval it asks for',
      expected: 'an approval before a stage that deploys an environment with "manual_approvals": true',
      fix: 'remove "approval": false (stage "production" then waits for a manual approval), or set environments.prod.manual_approvals to false',
    }]);
  });

  test('manual_approvals false under a stage that asks for an approval is a warning: the approval stays', () => {
    const { config, plan } = load({ environments: environments({ prod: { manual_approvals: false } }), pipeline: { stages: stages(true) } });

    expect(approvals(plan)).toEqual([['development', false], ['production', true]]);
    expect(config.warnings).toEqual([
      'ddk.json: environments.prod.manual_approvals: is false, but pipeline.stages[1] ("production") asks for an approval: the stage waits for it before deploying prod. Fix: remove manual_approvals, or the stage\'s approval',
    ]);
  });

  test('manual_approvals on the cicd environment has no effect and says so', () => {
    const { config, plan } = load({ environments: environments({ cicd: { manual_approvals: true } }), pipeline: { stages: stages() } });

    expect(approvals(plan)).toEqual([['development', false], ['production', false]]);
    expect(config.warnings).toEqual([
      'ddk.json: environments.cicd.manual_approvals: has no effect: the cicd environment hosts the pipeline and is never deployed by a stage. Fix: set it on the environment whose deployment should wait, or remove it',
    ]);
  });
});

describe('notifications_topic_arn', () => {
  test('on the cicd environment it is the pipeline\'s existing notification topic, with the default events', () => {
    const { config, plan } = load({ environments: environments({ cicd: { notifications_topic_arn: TOPIC } }) });

    expect(plan.notifications).toEqual({ emails: [], topicArn: TOPIC, events: ['execution-failed', 'execution-succeeded', 'approval-needed'] });
    expect(config.warnings).toEqual([]);
  });

  test('pipeline.notifications.events apply to the DDK topic', () => {
    const { plan } = load({ environments: environments({ cicd: { notifications_topic_arn: TOPIC } }), pipeline: { notifications: { events: ['stage-failed'] } } });

    expect(plan.notifications).toEqual({ emails: [], topicArn: TOPIC, events: ['stage-failed'] });
  });

  test('the same topic in pipeline.notifications.topicArn is fine; another one is an error', () => {
    const withTopic = environments({ cicd: { notifications_topic_arn: TOPIC } });
    expect(load({ environments: withTopic, pipeline: { notifications: { topicArn: TOPIC } } }).plan.notifications!.topicArn).toBe(TOPIC);

    const issues = issuesOf({ environments: withTopic, pipeline: { notifications: { topicArn: OTHER_TOPIC } } });
    expect(issues).toEqual([expect.objectContaining({
      path: 'environments.cicd.notifications_topic_arn',
      value: JSON.stringify(TOPIC),
      problem: `names another topic than pipeline.notifications.topicArn (${OTHER_TOPIC}); the pipeline notifies one topic`,
      fix: 'remove one of the two, or make them the same ARN',
    })]);
  });

  test('with pipeline.notifications.emails (a created topic) it is an error', () => {
    const issues = issuesOf({ environments: environments({ cicd: { notifications_topic_arn: TOPIC } }), pipeline: { notifications: { emails: ['ops@example.com'] } } });

    expect(issues).toEqual([expect.objectContaining({ path: 'environments.cicd.notifications_topic_arn', expected: 'either a created topic with "emails", or an existing topic' })]);
  });

  test('a value that is not an SNS topic ARN is an error, on any environment', () => {
    const issues = issuesOf({ environments: environments({ cicd: { notifications_topic_arn: 'pipeline-events' }, prod: { notifications_topic_arn: 'arn:aws:sqs:eu-west-1:333333333333:q' } }) });

    expect(issues.map(i => [i.path, i.problem])).toEqual([
      ['environments.cicd.notifications_topic_arn', 'is not an SNS topic ARN'],
      ['environments.prod.notifications_topic_arn', 'is not an SNS topic ARN'],
    ]);
  });

  test('on a target environment it is not used, and the warning says where the pipeline\'s topic is named', () => {
    const { config, plan } = load({ environments: environments({ prod: { notifications_topic_arn: OTHER_TOPIC } }) });

    expect(plan.notifications).toBeUndefined();
    expect(config.warnings).toEqual([
      'ddk.json: environments.prod.notifications_topic_arn: is not used: ddk-pipelines sends the events of the whole pipeline (every stage) to one topic, named by environments.cicd.notifications_topic_arn or pipeline.notifications.topicArn. Fix: move it to the cicd environment, or remove it',
    ]);
  });

  test('on a target environment naming the pipeline\'s own topic, there is nothing to warn about', () => {
    const envs = environments({ cicd: { notifications_topic_arn: TOPIC }, prod: { notifications_topic_arn: TOPIC } });
    const { config, plan } = load({ environments: envs });

    expect(plan.notifications!.topicArn).toBe(TOPIC);
    expect(config.warnings).toEqual([]);
  });
});
