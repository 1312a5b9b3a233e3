import type { PlanStage } from '../model/plan';
import { CODEPIPELINE_ACTION_LIMITS } from '../status-checks/codepipeline-limits';

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
  /** Characters in an action configuration key (the status-check gate's limits are the same table). */
  configurationKeyLength: CODEPIPELINE_ACTION_LIMITS.configurationKeyLength,
  /** Characters in an action configuration value. */
  configurationValueLength: CODEPIPELINE_ACTION_LIMITS.configurationValueLength,
  /** Characters in an artifact name. */
  artifactNameLength: 100,
  /** Highest runOrder of an action. */
  maxRunOrder: CODEPIPELINE_ACTION_LIMITS.runOrderMax,
};

/** Characters a pipeline, stage or action name may hold. */
const NAME = /^[A-Za-z0-9.@_-]+$/;
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
  for (const stage of stages) {
    checkName('stage', stage.Name);
    const actions: any[] = stage.Actions ?? [];
    if (actions.length > L.actionsPerStage) {
      problems.push(`${at(stage.Name)}: ${actions.length} actions, more than the ${L.actionsPerStage} a stage allows. Fix: split the stage's environments over two stages, or set "changeSets": false`);
    }
    for (const action of actions) {
      checkName('action', action.Name, stage.Name);
      if (typeof action.RunOrder === 'number' && (action.RunOrder < 1 || action.RunOrder > L.maxRunOrder)) {
        problems.push(`${at(stage.Name, action.Name)}: runOrder ${action.RunOrder} is outside 1 to ${L.maxRunOrder}. Fix: report this as a bug of ddk-pipelines`);
      }
      for (const [key, value] of Object.entries(action.Configuration ?? {})) {
        if (key.length > L.configurationKeyLength) {
          problems.push(`${at(stage.Name, action.Name)}: configuration key "${key}" is longer than ${L.configurationKeyLength} characters. Fix: report this as a bug of ddk-pipelines`);
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
 * required checks has one), the approval and the tests.
 */
export function stageOverhead(stage: PlanStage): number {
  return (stage.requiredChecks.length > 0 ? 1 : 0) + (stage.approval ? 1 : 0) + (stage.tests.length > 0 ? 1 : 0);
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
