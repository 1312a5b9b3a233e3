/*
 * CodePipeline's documented limits on one action of a pipeline (CodePipeline API reference:
 * ActionDeclaration, ActionConfiguration; user guide: "Quotas in AWS CodePipeline"). Pure: no
 * aws-cdk-lib import, so the constructs, the tests and a renderer's synth-time check share it.
 */

/** The limits CodePipeline documents for an action declaration. */
export const CODEPIPELINE_ACTION_LIMITS = {
  /** `ActionDeclaration.name`: letters, digits and . @ _ -, 1 to 100 characters. */
  actionNamePattern: '^[A-Za-z0-9.@_-]{1,100}$',
  /** `ActionDeclaration.namespace`: letters, digits and @ _ -, 1 to 100 characters. */
  namespacePattern: '^[A-Za-z0-9@_-]{1,100}$',
  /** Characters of an `ActionConfiguration` key. */
  configurationKeyLength: 50,
  /** Characters of an `ActionConfiguration` value (e.g. a Lambda invoke action's `UserParameters`). */
  configurationValueLength: 1000,
  /** Lowest `runOrder`. */
  runOrderMin: 1,
  /** Highest `runOrder`. */
  runOrderMax: 999,
} as const;

/** An action as CloudFormation renders it (`AWS::CodePipeline::Pipeline` `Stages[].Actions[]`). */
export interface RenderedAction {
  readonly Name?: unknown;
  readonly RunOrder?: unknown;
  readonly Namespace?: unknown;
  readonly Configuration?: unknown;
}

const ACTION_NAME = new RegExp(CODEPIPELINE_ACTION_LIMITS.actionNamePattern);
const NAMESPACE = new RegExp(CODEPIPELINE_ACTION_LIMITS.namespacePattern);

/**
 * What in one rendered action breaks CodePipeline's limits, each problem naming the stage, the
 * action, the value and the limit. Values that are still CloudFormation intrinsics (a `Ref`, an
 * `Fn::Join`) cannot be measured before deployment and are left out.
 *
 * @param stageName the stage the action is in (for the messages)
 */
export function actionLimitIssues(stageName: string, action: RenderedAction): string[] {
  const where = `stage "${stageName}", action ${typeof action.Name === 'string' ? `"${action.Name}"` : '(unnamed)'}`;
  const out: string[] = [];
  if (typeof action.Name === 'string' && !ACTION_NAME.test(action.Name)) {
    out.push(`${where}: the name is not a CodePipeline action name; expected letters, digits and . @ _ - (1 to 100 characters)`);
  }
  if (typeof action.Namespace === 'string' && !NAMESPACE.test(action.Namespace)) {
    out.push(`${where}: Namespace "${action.Namespace}" is not a CodePipeline namespace; expected letters, digits and @ _ - (1 to 100 characters)`);
  }
  const { runOrderMin, runOrderMax } = CODEPIPELINE_ACTION_LIMITS;
  if (typeof action.RunOrder === 'number' && (!Number.isInteger(action.RunOrder) || action.RunOrder < runOrderMin || action.RunOrder > runOrderMax)) {
    out.push(`${where}: RunOrder ${action.RunOrder} is out of range; expected a whole number from ${runOrderMin} to ${runOrderMax}`);
  }
  const configuration = typeof action.Configuration === 'object' && action.Configuration !== null ? action.Configuration as Record<string, unknown> : {};
  for (const [key, value] of Object.entries(configuration)) {
    if (key.length > CODEPIPELINE_ACTION_LIMITS.configurationKeyLength) {
      out.push(`${where}: Configuration key "${key}" has ${key.length} characters; CodePipeline allows at most ${CODEPIPELINE_ACTION_LIMITS.configurationKeyLength}`);
    }
    if (typeof value === 'string' && (value.length > CODEPIPELINE_ACTION_LIMITS.configurationValueLength || value.length === 0)) {
      out.push(`${where}: Configuration.${key} has ${value.length} characters; CodePipeline allows 1 to ${CODEPIPELINE_ACTION_LIMITS.configurationValueLength} per configuration value`);
    }
  }
  return out;
}

/**
 * What in a rendered pipeline's stages breaks CodePipeline's action limits (see
 * `actionLimitIssues`).
 *
 * @param stages the resolved `Stages` of an `AWS::CodePipeline::Pipeline`
 */
export function pipelineActionLimitIssues(stages: unknown): string[] {
  if (!Array.isArray(stages)) return [];
  return stages.flatMap((stage: { Name?: unknown; Actions?: unknown }) => {
    const name = typeof stage?.Name === 'string' ? stage.Name : '(unnamed)';
    return Array.isArray(stage?.Actions) ? stage.Actions.flatMap((a: RenderedAction) => actionLimitIssues(name, a ?? {})) : [];
  });
}
