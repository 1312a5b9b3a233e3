import type { PlanStage } from '../model/plan';
import { watchesTargetAlarms } from '../safety/shared';

/**
 * CodePipeline quotas and API constraints that a rendered pipeline must respect ("Quotas in
 * AWS CodePipeline"; API reference: PipelineDeclaration, StageDeclaration, ActionDeclaration,
 * ActionConfiguration, InputArtifact/OutputArtifact).
 */
export const CODEPIPELINE_LIMITS = {
  /** Stages in one pipeline. */
  stagesPerPipeline: 50,
  /** Actions in one stage. */
  actionsPerStage: 50,
  /** Characters in a pipeline, stage or action name. */
  nameLength: 100,
  /** `ActionDeclaration.name`: letters, digits and . @ _ -, 1 to 100 characters. */
  actionNamePattern: '^[A-Za-z0-9.@_-]{1,100}$',
  /** `ActionDeclaration.namespace`: letters, digits and @ _ -, 1 to 100 characters. */
  namespacePattern: '^[A-Za-z0-9@_-]{1,100}$',
  /** Characters in an action configuration key. */
  configurationKeyLength: 50,
  /** Characters in an action configuration value (e.g. a Lambda invoke action's `UserParameters`): 1 to 1,000. */
  configurationValueLength: 1000,
  /** Characters in an artifact name. */
  artifactNameLength: 100,
  /** Lowest runOrder of an action. */
  minRunOrder: 1,
  /** Highest runOrder of an action. */
  maxRunOrder: 999,
  /** Conditions in a stage's BeforeEntry, OnSuccess or OnFailure (API: a fixed number of 1). */
  conditionsPerStageCondition: 1,
  /** Rules in one condition (API Condition.rules: 1 to 5). */
  rulesPerCondition: 5,
  /** Characters in a rule name (API RuleDeclaration.name; same pattern as action names). */
  ruleNameLength: 100,
  /** Entries in a rule's configuration (API RuleDeclaration.configuration: 0 to 200). */
  ruleConfigurationEntries: 200,
  /** Characters in a rule configuration key (1 to 50). */
  ruleConfigurationKeyLength: 50,
  /** Characters in a rule configuration value (1 to 10,000). */
  ruleConfigurationValueLength: 10000,
  /** Characters in a rule's region (4 to 30). */
  ruleRegionLength: { min: 4, max: 30 },
};

/** The stage conditions a stage may declare, with the results CodePipeline offers for each ("Stage conditions"). */
const CONDITION_RESULTS: Record<string, string[]> = {
  BeforeEntry: ['FAIL', 'SKIP'],
  OnSuccess: ['ROLLBACK'],
  OnFailure: ['ROLLBACK', 'RETRY'],
};

/** Characters a pipeline, stage or action name may hold. */
const NAME = /^[A-Za-z0-9.@_-]+$/;
const NAMESPACE = new RegExp(CODEPIPELINE_LIMITS.namespacePattern);
/** Characters an artifact name may hold. */
const ARTIFACT_NAME = /^[a-zA-Z0-9_-]+$/;

/**
 * The problems of a rendered pipeline (the resolved properties of an `AWS::CodePipeline::Pipeline`)
 * against CodePipeline's documented limits; empty when it fits. Values holding references are
 * measured by their literal parts only (a lower bound), so a problem reported is always real.
 *
 * @param pipeline resolved `Name` and `Stages` of the pipeline
 * @param where the file the pipeline comes from, for the messages
 */
export function pipelineLimitProblems(pipeline: { Name?: unknown; Stages?: any[] }, where: string): string[] {
  const problems: string[] = [];
  const L = CODEPIPELINE_LIMITS;
  const pipelineName = typeof pipeline.Name === 'string' ? pipeline.Name : '(generated)';
  const at = (stage?: string, action?: string) => `${where}: pipeline "${pipelineName}"${stage ? `, stage "${stage}"` : ''}${action ? `, action "${action}"` : ''}`;
  const checkName = (kind: string, name: unknown, stage?: string, action?: string) => {
    if (typeof name !== 'string') return;
    if (name.length > L.nameLength || !NAME.test(name)) {
      problems.push(`${at(stage, action)}: the ${kind} name "${name}" is not 1 to ${L.nameLength} letters, digits and . @ _ - (CodePipeline's name rule). Fix: shorten or rename it in ddk.json`);
    }
  };
  checkName('pipeline', pipeline.Name);
  const stages = pipeline.Stages ?? [];
  if (stages.length > L.stagesPerPipeline) {
    problems.push(`${at()}: ${stages.length} stages, more than the ${L.stagesPerPipeline} a pipeline allows. Fix: put environments that may deploy together into one stage (they deploy in parallel)`);
  }
  const ruleNames = new Set<string>();
  for (const stage of stages) {
    checkName('stage', stage.Name);
    problems.push(...conditionProblems(stage, ruleNames, at(stage.Name)));
    const actions: any[] = stage.Actions ?? [];
    if (actions.length > L.actionsPerStage) {
      problems.push(`${at(stage.Name)}: ${actions.length} actions, more than the ${L.actionsPerStage} a stage allows. Fix: split the stage's environments over two stages, or set "changeSets": false`);
    }
    for (const action of actions) {
      checkName('action', action.Name, stage.Name);
      if (typeof action.Namespace === 'string' && !NAMESPACE.test(action.Namespace)) {
        problems.push(`${at(stage.Name, action.Name)}: the namespace "${action.Namespace}" is not 1 to 100 letters, digits and @ _ - (CodePipeline's namespace rule). Fix: report this as a bug of ddk-pipelines`);
      }
      if (typeof action.RunOrder === 'number' && (!Number.isInteger(action.RunOrder) || action.RunOrder < L.minRunOrder || action.RunOrder > L.maxRunOrder)) {
        problems.push(`${at(stage.Name, action.Name)}: runOrder ${action.RunOrder} is outside ${L.minRunOrder} to ${L.maxRunOrder}. Fix: report this as a bug of ddk-pipelines`);
      }
      for (const [key, value] of Object.entries(action.Configuration ?? {})) {
        if (key.length > L.configurationKeyLength) {
          problems.push(`${at(stage.Name, action.Name)}: configuration key "${key}" is longer than ${L.configurationKeyLength} characters. Fix: report this as a bug of ddk-pipelines`);
        }
        if (value === '') {
          problems.push(`${at(stage.Name, action.Name)}: configuration value ${key} is empty, and CodePipeline refuses an empty value. Fix: give it a text in ddk.json, or leave the setting out`);
        }
        const length = literalLength(value);
        if (length > L.configurationValueLength) {
          problems.push(`${at(stage.Name, action.Name)}: configuration value ${key} is at least ${length} characters, more than the ${L.configurationValueLength} CodePipeline allows per value. Fix: shorten what this stage renders into it in ddk.json (commands, names, contexts), or split the stage`);
        }
      }
      for (const artifact of [...(action.InputArtifacts ?? []), ...(action.OutputArtifacts ?? [])]) {
        const name = artifact?.Name;
        if (typeof name === 'string' && (name.length > L.artifactNameLength || !ARTIFACT_NAME.test(name))) {
          problems.push(`${at(stage.Name, action.Name)}: artifact name "${name}" is not 1 to ${L.artifactNameLength} letters, digits, _ and -. Fix: shorten the stage or environment names it is made from`);
        }
      }
    }
  }
  return problems;
}

/**
 * The problems of a stage's conditions (BeforeEntry, OnSuccess, OnFailure) against the API
 * reference (BeforeEntryConditions, SuccessConditions, FailureConditions, Condition,
 * RuleDeclaration): one condition each, 1 to 5 rules, results the condition offers, rule names
 * unique in the pipeline (`ruleNames` collects them), configuration and region within limits.
 */
function conditionProblems(stage: any, ruleNames: Set<string>, where: string): string[] {
  const L = CODEPIPELINE_LIMITS;
  const problems: string[] = [];
  const fix = 'Fix: report this as a bug of ddk-pipelines';
  for (const [kind, results] of Object.entries(CONDITION_RESULTS)) {
    const declared = stage[kind];
    if (declared === undefined) continue;
    const conditions: any[] = declared.Conditions ?? [];
    if (kind === 'OnFailure' && declared.Result !== undefined && !results.includes(declared.Result)) {
      problems.push(`${where}: ${kind} result ${declared.Result} is not one of ${results.join(', ')}. ${fix}`);
    }
    if (conditions.length === 0 && kind === 'OnFailure') continue;
    if (conditions.length !== L.conditionsPerStageCondition) {
      problems.push(`${where}: ${kind} has ${conditions.length} conditions; CodePipeline takes exactly ${L.conditionsPerStageCondition}. ${fix}`);
    }
    for (const condition of conditions) {
      const rules: any[] = condition.Rules ?? [];
      if (condition.Result !== undefined && !results.includes(condition.Result)) {
        problems.push(`${where}: ${kind} condition result ${condition.Result} is not one of ${results.join(', ')}. ${fix}`);
      }
      if (rules.length < 1 || rules.length > L.rulesPerCondition) {
        problems.push(`${where}: ${kind} has ${rules.length} rules in a condition; CodePipeline allows 1 to ${L.rulesPerCondition}. Fix: at most ${L.rulesPerCondition} windows or CICD-account alarms per stage in ddk.json`);
      }
      for (const rule of rules) {
        const name = rule.Name;
        if (typeof name === 'string') {
          if (name.length > L.ruleNameLength || !NAME.test(name)) {
            problems.push(`${where}: ${kind} rule name "${name}" is not 1 to ${L.ruleNameLength} letters, digits and . @ _ -. ${fix}`);
          } else if (ruleNames.has(name)) {
            problems.push(`${where}: ${kind} rule name "${name}" is used twice in the pipeline (rule names are unique in a pipeline). Fix: make the stage names differ in their first 80 characters`);
          }
          ruleNames.add(name);
        }
        const entries = Object.entries(rule.Configuration ?? {});
        if (entries.length > L.ruleConfigurationEntries) {
          problems.push(`${where}: ${kind} rule "${name}" has ${entries.length} configuration entries; CodePipeline allows ${L.ruleConfigurationEntries}. ${fix}`);
        }
        for (const [key, value] of entries) {
          if (key.length < 1 || key.length > L.ruleConfigurationKeyLength) {
            problems.push(`${where}: ${kind} rule "${name}": configuration key "${key}" is not 1 to ${L.ruleConfigurationKeyLength} characters. ${fix}`);
          }
          const length = literalLength(value);
          if (typeof value === 'string' && length === 0) {
            problems.push(`${where}: ${kind} rule "${name}": configuration value ${key} is empty; CodePipeline needs 1 to ${L.ruleConfigurationValueLength} characters. Fix: set it in ddk.json`);
          }
          if (length > L.ruleConfigurationValueLength) {
            problems.push(`${where}: ${kind} rule "${name}": configuration value ${key} is at least ${length} characters, more than the ${L.ruleConfigurationValueLength} CodePipeline allows. Fix: shorten it in ddk.json`);
          }
        }
        if (typeof rule.Region === 'string' && (rule.Region.length < L.ruleRegionLength.min || rule.Region.length > L.ruleRegionLength.max)) {
          problems.push(`${where}: ${kind} rule "${name}": region "${rule.Region}" is not ${L.ruleRegionLength.min} to ${L.ruleRegionLength.max} characters. ${fix}`);
        }
      }
    }
  }
  return problems;
}

/** Characters a resolved CloudFormation value has for sure: its literal parts (references count 0). */
export function literalLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value && typeof value === 'object') {
    const join = (value as any)['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) {
      return join[1].reduce((n: number, part: unknown) => n + literalLength(part), 0) + String(join[0]).length * Math.max(0, join[1].length - 1);
    }
    const sub = (value as any)['Fn::Sub'];
    if (typeof sub === 'string') return sub.replace(/\$\{[^}]*\}/g, '').length;
  }
  return 0;
}

/**
 * Actions a plan stage adds besides its deployments: the status-check gate (a stage with
 * required checks has one), the change review, the approval, the tests and the alarm watch
 * (a stage watching its targets' alarms has one).
 */
export function stageOverhead(stage: PlanStage): number {
  return (stage.requiredChecks.length > 0 ? 1 : 0) + (stage.changeReview ? 1 : 0) + (stage.approval ? 1 : 0) + (stage.tests.length > 0 ? 1 : 0)
    + (watchesTargetAlarms(stage) ? 1 : 0);
}

/**
 * Names of the consecutive CodePipeline stages a plan stage is split into: its own name, then
 * `<name>-2`, `<name>-3`, … skipping any name that another plan stage has.
 */
export function splitStageNames(name: string, parts: number, planStageNames: Iterable<string>): string[] {
  const taken = new Set(planStageNames);
  const names = [name];
  for (let k = 2; names.length < parts; k++) {
    if (!taken.has(`${name}-${k}`)) names.push(`${name}-${k}`);
  }
  return names;
}

/**
 * Packs the stage's deployments (target `i` needing `actions[i]` actions) into the fewest
 * consecutive groups that fit a CodePipeline stage, keeping their order; the `reserved` actions
 * (gate, approval, tests) are counted in every group to stay safe.
 *
 * @returns groups of target indices
 * @throws when one target alone does not fit a stage
 */
export function packDeployments(stage: PlanStage, actions: number[], reserved: number): number[][] {
  const capacity = CODEPIPELINE_LIMITS.actionsPerStage - reserved;
  const groups: number[][] = [];
  let current: number[] = [];
  let used = 0;
  actions.forEach((n, i) => {
    if (n > capacity) {
      throw new Error(`pipeline.stages "${stage.name}": environment "${stage.targets[i].id}" needs ${n} CodePipeline actions (plus ${reserved} for the gate, approval and tests), more than the ${CODEPIPELINE_LIMITS.actionsPerStage} actions a CodePipeline stage allows. Fix: build the application in fewer stacks, or set "changeSets": false (one action per stack instead of two)`);
    }
    if (used + n > capacity && current.length > 0) {
      groups.push(current);
      current = [];
      used = 0;
    }
    current.push(i);
    used += n;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}
