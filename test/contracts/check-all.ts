import { AccessInput, checkAccess } from './access';
import { checkGatewayResponses } from './contracts/apigateway';
import { checkTemplateQuotas } from './contracts/cloudformation';
import { checkCodeBuild } from './contracts/codebuild';
import { checkCodePipeline } from './contracts/codepipeline';
import { checkEventRules } from './contracts/events';
import { checkIamActionsAndConditions, checkPolicySizes } from './contracts/iam';
import { checkLambda, checkServiceProperties } from './contracts/services';
import { checkSafetyAccess, checkStageConditions } from './contracts/stage-conditions';
import { checkStatusCheckGates } from './contracts/status-checks';
import { Finding } from './findings';
import { checkGuardRules } from './guard';
import type { SynthOutput } from './synthesize';

/** Which of the slower contracts run. */
export interface CheckOptions {
  /** Run AWS Control Tower's guard rules (cfn-guard, seconds per output). @default true */
  readonly guard?: boolean;
  /** Run the access simulation. @default true */
  readonly access?: boolean;
}

/** The access contracts' view of a synthesized output. */
export function accessInputOf(out: Pick<SynthOutput, 'plan' | 'stacks'>): AccessInput {
  return {
    strategy: out.plan.strategy,
    cicd: { account: out.plan.cicd.account, region: out.plan.cicd.region },
    targets: out.plan.stages.flatMap(s => s.targets.map(t => ({
      id: t.id,
      account: t.account,
      region: t.region,
      qualifier: t.environment.bootstrapQualifier ?? 'hnb659fds',
      stage: s.name,
    }))),
    stacks: out.stacks,
    review: out.plan.review ? {
      target: {
        id: out.plan.review.target.id,
        account: out.plan.review.target.account,
        region: out.plan.review.target.region,
        qualifier: out.plan.review.target.environment.bootstrapQualifier ?? 'hnb659fds',
      },
      source: { kind: out.plan.source.kind === 'codecommit' ? 'codecommit' : 'connection', repository: out.plan.source.repository },
    } : undefined,
  };
}

/** Every contract over every template of a synthesized output. */
export async function checkOutput(out: Pick<SynthOutput, 'plan' | 'stacks'>, options: CheckOptions = {}): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const stack of out.stacks) {
    findings.push(
      ...checkTemplateQuotas(stack),
      ...checkCodePipeline(stack),
      ...checkCodeBuild(stack),
      ...checkPolicySizes(stack),
      ...(await checkIamActionsAndConditions(stack)),
      ...checkGatewayResponses(stack),
      ...checkLambda(stack),
      ...checkServiceProperties(stack),
      ...checkStatusCheckGates(stack),
      ...checkEventRules(stack),
      ...checkStageConditions(stack),
    );
    if (options.access ?? true) findings.push(...(await checkSafetyAccess(stack)));
  }
  if (options.access ?? true) findings.push(...(await checkAccess(accessInputOf(out))));
  if (options.guard ?? true) findings.push(...checkGuardRules(out.stacks));
  return findings;
}
