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
 * Packs deployments (each needing `actions[i]` actions) into the fewest consecutive groups
 * that fit a CodePipeline stage, keeping file order; `reserved` actions (approval, tests)
 * are counted in every group to stay safe.
 *
 * @returns groups of deployment indices
 * @throws when one deployment alone does not fit a stage
 */
export function packDeployments(stageName: string, actions: number[], reserved: number): number[][] {
  const capacity = CODEPIPELINE_LIMITS.actionsPerStage - reserved;
  const groups: number[][] = [];
  let current: number[] = [];
  let used = 0;
  actions.forEach((n, i) => {
    if (n > capacity) {
      throw new Error(`stage "${stageName}": one environment needs ${n} CodePipeline actions, more than the ${CODEPIPELINE_LIMITS.actionsPerStage} actions a CodePipeline stage allows. Fix: put fewer stacks in the application (each stack is ${n === 0 ? 0 : 2} actions with change sets), or deploy without change sets`);
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
