import type { PlanStage } from '../model/plan';

/**
 * CodePipeline quotas that a rendered plan must respect.
 */
export const CODEPIPELINE_LIMITS = {
  /** Stages in one pipeline. */
  stagesPerPipeline: 50,
  /** Actions in one stage. */
  actionsPerStage: 50,
};

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
