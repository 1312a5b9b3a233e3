import { Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { watchesTargetAlarms } from './shared';
import type { DeliveryPlan, PlanStage } from '../model/plan';

/*
 * The stage conditions of a plan stage (issue 13), as CodePipeline's rule reference documents them:
 *
 * - BeforeEntry: one condition (BeforeEntryConditions holds exactly one) of one `DeploymentWindow`
 *   rule per window (Condition.rules: 1 to 5; all must pass, so the windows are ANDed), result FAIL;
 *   configuration `Cron` (required) and `TimeZone`.
 * - OnSuccess: one condition of one `CloudWatchAlarm` rule per CICD-account alarm, result ROLLBACK;
 *   configuration `AlarmName` (required), `AlarmStates` ("ALARM") and `WaitTime` (minutes: the
 *   stage's soak time).
 * - OnFailure ROLLBACK comes from the stage's rollbackOnFailure (the renderers).
 *
 * Rule names (RuleDeclaration.name: 1 to 100 of A-Za-z0-9.@_-) are unique in the pipeline:
 * `<stage>-Window-<n>` and `<stage>-Alarm-<n>`, the stage name cut so the suffix always fits.
 * The rules run as the pipeline's role (no RoleArn): DeploymentWindow reads nothing; CloudWatchAlarm
 * reads the alarms (the renderers grant cloudwatch:DescribeAlarms on exactly those alarms).
 *
 * Internal: not exported from lib/index.ts.
 */

/** The rule types used, as RuleTypeId (category Rule, owner AWS, version 1). */
export const RULE_PROVIDERS = {
  deploymentWindow: 'DeploymentWindow',
  cloudWatchAlarm: 'CloudWatchAlarm',
} as const;

/** The rest of both rules' type id (category, owner, version). */
const RULE_TYPE = { category: 'Rule', owner: 'AWS', version: '1' } as const;

/** What the OnSuccess alarm rules react to. */
export const WATCHED_ALARM_STATES = 'ALARM';

/** One rule of a stage condition, before it is rendered. */
export interface StageRule {
  readonly name: string;
  readonly provider: string;
  readonly configuration: Record<string, string>;
}

/** A rule name unique in the pipeline: the stage's name, cut so that `suffix` fits in 100 characters. */
function ruleName(stage: string, suffix: string): string {
  return `${stage.slice(0, 100 - suffix.length)}${suffix}`;
}

/** The DeploymentWindow rules of a stage (one per window; empty when it has none). */
export function windowRules(stage: PlanStage): StageRule[] {
  return stage.windows.map((w, i) => ({
    name: ruleName(stage.name, `-Window-${i + 1}`),
    provider: RULE_PROVIDERS.deploymentWindow,
    configuration: { Cron: w.cron, TimeZone: w.timeZone },
  }));
}

/** The CloudWatchAlarm rules of a stage (one per CICD-account alarm; empty when it has none). */
export function alarmRules(stage: PlanStage): StageRule[] {
  const alarms = stage.alarms;
  if (!alarms) return [];
  return alarms.cicd.map((name, i) => ({
    name: ruleName(stage.name, `-Alarm-${i + 1}`),
    provider: RULE_PROVIDERS.cloudWatchAlarm,
    configuration: { AlarmName: name, AlarmStates: WATCHED_ALARM_STATES, WaitTime: String(alarms.soakMinutes) },
  }));
}

function l2(rules: StageRule[], result: codepipeline.Result): codepipeline.Conditions | undefined {
  if (rules.length === 0) return undefined;
  return {
    conditions: [{
      result,
      rules: rules.map(r => new codepipeline.Rule({
        name: r.name, provider: r.provider, version: RULE_TYPE.version, configuration: r.configuration,
      })),
    }],
  };
}

function cfn(rules: StageRule[], result: string): object | undefined {
  if (rules.length === 0) return undefined;
  return {
    Conditions: [{
      Result: result,
      Rules: rules.map(r => ({
        Name: r.name,
        RuleTypeId: { Category: RULE_TYPE.category, Owner: RULE_TYPE.owner, Provider: r.provider, Version: RULE_TYPE.version },
        Configuration: r.configuration,
      })),
    }],
  };
}

/** The stage's BeforeEntry condition for aws-codepipeline's StageProps; undefined without windows. */
export function beforeEntryConditions(stage: PlanStage): codepipeline.Conditions | undefined {
  return l2(windowRules(stage), codepipeline.Result.FAIL);
}

/** The stage's OnSuccess condition for aws-codepipeline's StageProps; undefined without CICD alarms. */
export function onSuccessConditions(stage: PlanStage): codepipeline.Conditions | undefined {
  return l2(alarmRules(stage), codepipeline.Result.ROLLBACK);
}

/** The stage's BeforeEntry as a CloudFormation property (CDK Pipelines: a property override). */
export function cfnBeforeEntry(stage: PlanStage): object | undefined {
  return cfn(windowRules(stage), 'FAIL');
}

/** The stage's OnSuccess as a CloudFormation property (CDK Pipelines: a property override). */
export function cfnOnSuccess(stage: PlanStage): object | undefined {
  return cfn(alarmRules(stage), 'ROLLBACK');
}

export { watchesTargetAlarms };

/**
 * Lets the pipeline's role read the CICD account's alarms its OnSuccess CloudWatchAlarm rules
 * watch (rules without a RoleArn run as the pipeline's role): cloudwatch:DescribeAlarms on exactly
 * those alarms. DeploymentWindow rules read nothing.
 */
export function grantAlarmRules(pipeline: { readonly role: iam.IRole } & IConstruct, stage: PlanStage, plan: DeliveryPlan): void {
  const names = stage.alarms?.cicd ?? [];
  if (names.length === 0) return;
  const stack = Stack.of(pipeline);
  pipeline.role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['cloudwatch:DescribeAlarms'],
    resources: names.map(n => `arn:${stack.partition}:cloudwatch:${plan.cicd.region}:${plan.cicd.account}:alarm:${n}`),
  }));
}
