import { CODEPIPELINE_LIMITS, pipelineLimitProblems, stageOverhead } from '../../lib/pipelines/limits';
import { alarmRules, cfnBeforeEntry, cfnOnSuccess, windowRules } from '../../lib/safety/stage-conditions';
import { exampleDdkJson, render } from '../helpers';

/*
 * Stage conditions as pure data (no CloudFormation): rule names, providers and configuration, and
 * the limit checks every rendered pipeline goes through (RuleDeclaration, Condition,
 * BeforeEntry/Success/FailureConditions in CodePipeline's API reference).
 */

function planStage(mutate: (doc: any) => void) {
  const doc = exampleDdkJson();
  mutate(doc);
  return render(doc).plan.stages[1];
}

describe('rules of a stage', () => {
  test('one DeploymentWindow rule per window and one CloudWatchAlarm rule per CICD alarm, named after the stage', () => {
    const stage = planStage(doc => {
      doc.pipeline.stages[1].window = [{ cron: '* * 9-16 ? * MON-FRI', timeZone: 'UTC+02:00' }, { cron: '* 0-29 * ? * *' }];
      doc.pipeline.stages[1].alarms = { cicd: ['a', 'b'], soakMinutes: 1410 };
    });
    expect(windowRules(stage)).toEqual([
      { name: 'production-Window-1', provider: 'DeploymentWindow', configuration: { Cron: '* * 9-16 ? * MON-FRI', TimeZone: 'UTC+02:00' } },
      { name: 'production-Window-2', provider: 'DeploymentWindow', configuration: { Cron: '* 0-29 * ? * *', TimeZone: 'UTC' } },
    ]);
    expect(alarmRules(stage)).toEqual([
      { name: 'production-Alarm-1', provider: 'CloudWatchAlarm', configuration: { AlarmName: 'a', AlarmStates: 'ALARM', WaitTime: '1410' } },
      { name: 'production-Alarm-2', provider: 'CloudWatchAlarm', configuration: { AlarmName: 'b', AlarmStates: 'ALARM', WaitTime: '1410' } },
    ]);
  });

  test('a 100-character stage name is cut so the rule name keeps its suffix and stays within 100 characters', () => {
    const name = `p${'x'.repeat(99)}`;
    const stage = planStage(doc => {
      doc.pipeline.stages[1].name = name;
      doc.pipeline.stages[1].window = { cron: '* * 9-16 ? * MON-FRI' };
    });
    const [rule] = windowRules(stage);
    expect(rule.name).toHaveLength(100);
    expect(rule.name.endsWith('-Window-1')).toBe(true);
    expect(rule.name.startsWith(name.slice(0, 91))).toBe(true);
  });

  test('no windows, no alarms: no conditions', () => {
    const stage = planStage(() => undefined);
    expect(cfnBeforeEntry(stage)).toBeUndefined();
    expect(cfnOnSuccess(stage)).toBeUndefined();
  });

  test('the gate, change review, approval, tests and alarm watch count as stage overhead', () => {
    expect(stageOverhead(planStage(() => undefined))).toBe(3); // gate, approval, tests
    expect(stageOverhead(planStage(doc => { doc.pipeline.stages[1].changeReview = true; }))).toBe(4);
    expect(stageOverhead(planStage(doc => { doc.environments['prod-us'].alarms = ['x']; }))).toBe(4);
    // CICD-account alarms are a condition, not an action
    expect(stageOverhead(planStage(doc => { doc.pipeline.stages[1].alarms = { cicd: ['x'] }; }))).toBe(3);
  });
});

describe('limits of stage conditions', () => {
  const rule = (name: string, configuration: Record<string, unknown> = { Cron: '* * * ? * *' }) => ({
    Name: name, RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' }, Configuration: configuration,
  });
  const pipeline = (stage: object) => ({
    Name: 'p',
    Stages: [{ Name: 'Source', Actions: [] }, { Name: 's', Actions: [{ Name: 'A', RunOrder: 1 }], ...stage }],
  });

  test('a rendered stage condition within the limits has no problems', () => {
    const stage = planStage(doc => {
      doc.pipeline.stages[1].window = { cron: '* * 9-16 ? * MON-FRI' };
      doc.pipeline.stages[1].alarms = { cicd: ['a'] };
    });
    expect(pipelineLimitProblems(pipeline({ BeforeEntry: cfnBeforeEntry(stage), OnSuccess: cfnOnSuccess(stage), OnFailure: { Result: 'ROLLBACK' } }), 'ddk.json')).toEqual([]);
  });

  test('more than 5 rules in a condition', () => {
    const rules = Array.from({ length: 6 }, (_, i) => rule(`r${i}`));
    expect(pipelineLimitProblems(pipeline({ BeforeEntry: { Conditions: [{ Result: 'FAIL', Rules: rules }] } }), 'ddk.json'))
      .toEqual([expect.stringMatching(/stage "s": BeforeEntry has 6 rules in a condition; CodePipeline allows 1 to 5\. Fix:/)]);
  });

  test('two conditions, a result the condition does not offer, and an empty condition', () => {
    expect(pipelineLimitProblems(pipeline({ OnSuccess: { Conditions: [{ Result: 'ROLLBACK', Rules: [rule('a')] }, { Result: 'FAIL', Rules: [] }] } }), 'ddk.json')).toEqual([
      expect.stringMatching(/OnSuccess has 2 conditions; CodePipeline takes exactly 1/),
      expect.stringMatching(/OnSuccess condition result FAIL is not one of ROLLBACK/),
      expect.stringMatching(/OnSuccess has 0 rules in a condition/),
    ]);
  });

  test('rule names: pattern, length, unique in the pipeline', () => {
    const problems = pipelineLimitProblems({
      Name: 'p',
      Stages: [
        { Name: 'a', Actions: [], BeforeEntry: { Conditions: [{ Result: 'FAIL', Rules: [rule('same'), rule('has space'), rule('n'.repeat(CODEPIPELINE_LIMITS.ruleNameLength + 1))] }] } },
        { Name: 'b', Actions: [], BeforeEntry: { Conditions: [{ Result: 'FAIL', Rules: [rule('same')] }] } },
      ],
    }, 'ddk.json');
    expect(problems).toEqual([
      expect.stringMatching(/rule name "has space" is not 1 to 100 letters/),
      expect.stringMatching(/rule name "n{101}" is not 1 to 100 letters/),
      expect.stringMatching(/stage "b": BeforeEntry rule name "same" is used twice in the pipeline/),
    ]);
  });

  test('configuration keys 1 to 50 characters, values 1 to 10,000, region 4 to 30', () => {
    const r = { ...rule('r', { ['k'.repeat(51)]: 'v', Cron: 'c'.repeat(10001), TimeZone: '' }), Region: 'eu' };
    const problems = pipelineLimitProblems(pipeline({ BeforeEntry: { Conditions: [{ Result: 'FAIL', Rules: [r] }] } }), 'ddk.json');
    expect(problems).toEqual([
      expect.stringMatching(/configuration key "k{51}" is not 1 to 50 characters/),
      expect.stringMatching(/configuration value Cron is at least 10001 characters, more than the 10000/),
      expect.stringMatching(/configuration value TimeZone is empty/),
      expect.stringMatching(/region "eu" is not 4 to 30 characters/),
    ]);
  });

  test('OnFailure: ROLLBACK without conditions is valid; another result is not', () => {
    expect(pipelineLimitProblems(pipeline({ OnFailure: { Result: 'ROLLBACK' } }), 'ddk.json')).toEqual([]);
    expect(pipelineLimitProblems(pipeline({ OnFailure: { Result: 'SKIP' } }), 'ddk.json')).toEqual([expect.stringMatching(/OnFailure result SKIP is not one of ROLLBACK, RETRY/)]);
  });
});
