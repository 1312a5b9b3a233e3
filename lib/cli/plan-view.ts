import { DeliveryPlan, PipelineStrategy, PlanSource, PlanStage, SourceKind } from '../model';
import { reviewStackPattern, stageBranch } from './graph';
import { columns, Style, style as makeStyle } from './io';

/** The JSON form of a plan printed by `plan --json` (stable: scripts read it). */
export interface PlanJson {
  readonly name: string;
  readonly strategy: string;
  readonly executionMode: string;
  readonly selfMutating: boolean;
  readonly useChangeSets: boolean;
  readonly notifications?: { emails: string[]; topicArn?: string; events: string[] };
  readonly source: { kind: string; repository: string; branch: string; create: boolean; connectionArn?: string };
  readonly cicd: { account: string; region: string };
  readonly build: { commands: string[] };
  readonly stages: Array<{
    name: string;
    requiredChecks: string[];
    approval: { comment: string; reviewUrl?: string; notify: string[]; timeoutMinutes?: number } | null;
    environments: Array<{ id: string; account: string; region: string; bootstrapQualifier?: string }>;
    tests: string[];
    branch?: string;
    rollbackOnFailure?: boolean;
  }>;
  /** The review path (pipeline.review): absent when ddk.json has none. */
  readonly review?: {
    environment: { id: string; account: string; region: string };
    branches: string[];
    ttlHours: number;
    tests: string[];
    allowForks: boolean;
    urlOutput?: string;
    /** `<pipeline>-review-<review id>-<stack>`. */
    stackNames: string;
  };
}

/** The plan as plain JSON (no EnvironmentConfig objects). */
export function planJson(plan: DeliveryPlan): PlanJson {
  return {
    name: plan.name,
    strategy: plan.strategy,
    executionMode: plan.executionMode,
    selfMutating: plan.strategy === PipelineStrategy.CDK_PIPELINES,
    useChangeSets: plan.useChangeSets,
    ...(notificationsOf(plan) ? { notifications: notificationsOf(plan) } : {}),
    source: { ...plan.source },
    cicd: { account: plan.cicd.account, region: plan.cicd.region },
    build: { commands: [...plan.synthCommands] },
    stages: plan.stages.map(s => ({
      name: s.name,
      requiredChecks: [...s.requiredChecks],
      approval: s.approval ? { ...s.approval, notify: [...s.approval.notify] } : null,
      environments: s.targets.map(t => ({
        id: t.id,
        account: t.account,
        region: t.region,
        ...(t.environment.bootstrapQualifier ? { bootstrapQualifier: t.environment.bootstrapQualifier } : {}),
      })),
      tests: [...s.tests],
      ...(stageBranch(s) !== undefined ? { branch: stageBranch(s) } : {}),
      ...(rollbackOf(s) !== undefined ? { rollbackOnFailure: rollbackOf(s) } : {}),
    })),
    ...(plan.review ? {
      review: {
        environment: { id: plan.review.target.id, account: plan.review.target.account, region: plan.review.target.region },
        branches: [...plan.review.branches],
        ttlHours: plan.review.ttlHours,
        tests: [...plan.review.tests],
        allowForks: plan.review.allowForks,
        ...(plan.review.urlOutput !== undefined ? { urlOutput: plan.review.urlOutput } : {}),
        stackNames: reviewStackPattern(plan),
      },
    } : {}),
  };
}

/*
 * Plan fields that only some versions of the model carry (read defensively, so the CLI shows
 * them when present and compiles either way).
 */
function notificationsOf(plan: DeliveryPlan): { emails: string[]; topicArn?: string; events: string[] } | undefined {
  const n = (plan as unknown as { notifications?: { emails?: string[]; topicArn?: string; events?: string[] } }).notifications;
  if (!n) return undefined;
  return { emails: [...(n.emails ?? [])], ...(n.topicArn ? { topicArn: n.topicArn } : {}), events: [...(n.events ?? [])] };
}

function rollbackOf(stage: PlanStage): boolean | undefined {
  const r = (stage as { rollbackOnFailure?: unknown }).rollbackOnFailure;
  return typeof r === 'boolean' ? r : undefined;
}

/** One line of the source: `codecommit myapp @ main (created)`. */
export function describeSource(source: PlanSource): string {
  if (source.kind === SourceKind.CONNECTION) return `connection ${source.repository} @ ${source.branch} (${source.connectionArn})`;
  return `codecommit ${source.repository} @ ${source.branch} (${source.create ? 'created by the pipeline stack' : 'existing repository'})`;
}

/** A node of a printed tree. */
export interface TreeNode {
  readonly label: string;
  readonly children?: TreeNode[];
}

/** Renders a tree with box-drawing characters (labels are single lines). */
export function renderTree(root: TreeNode): string[] {
  const lines = [root.label];
  const walk = (node: TreeNode, prefix: string) => {
    const children = node.children ?? [];
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${child.label}`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return lines;
}

/**
 * The review path of a plan with pipeline.review: where pull requests deploy, under which stack
 * names, the tests, the review URL, forks and when a review deployment is torn down.
 */
export function reviewTree(plan: DeliveryPlan, s: Style = makeStyle(false)): TreeNode | undefined {
  const review = plan.review;
  if (!review) return undefined;
  const t = review.target;
  const connection = plan.source.kind === SourceKind.CONNECTION;
  const children: TreeNode[] = [
    { label: `stacks    ${reviewStackPattern(plan)}  (one set per pull request${connection ? ', known by its source branch' : ''})` },
    ...review.tests.map(test => ({ label: `${s.cyan('test')}      ${test}` })),
    { label: `url       ${review.urlOutput !== undefined ? `the stack output ${review.urlOutput}` : 'the CloudFormation console (no urlOutput)'}, linked from the check review/deploy` },
    {
      label: `forks     ${connection
        ? (review.allowForks ? s.yellow('deploy too (allowForks)') : 'refused (allowForks: false)')
        : 'none (CodeCommit pull requests come from the same repository)'}`,
    },
    {
      label: `${s.yellow('teardown')}  when the pull request is closed or merged${review.ttlHours > 0 ? `, or after ${review.ttlHours} h without an update` : ' (no TTL)'}; `
        + 'by hand: ddk-pipelines reviews destroy',
    },
  ];
  return {
    label: `${s.cyan('review')}    pull requests into ${review.branches.join(', ')} → a review deployment each in ${s.bold(t.id)}  ${t.account}  ${t.region}`,
    children,
  };
}

/** The plan as a tree: stages in order; gate, approval, parallel deployments and tests in each; then the review path. */
export function planTree(plan: DeliveryPlan, s: Style = makeStyle(false)): TreeNode {
  const gitflow = plan.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW;
  const stageNodes: TreeNode[] = plan.stages.map((stage, i) => {
    const children: TreeNode[] = [];
    if (stage.requiredChecks.length > 0) {
      children.push({ label: `${s.yellow('gate')}      required checks must be success: ${stage.requiredChecks.join(', ')}` });
    }
    if (stage.approval) {
      const a = stage.approval;
      const details = [`"${a.comment}"`];
      if (a.notify.length > 0) details.push(`notify ${a.notify.join(', ')}`);
      if (a.reviewUrl) details.push(`review ${a.reviewUrl}`);
      if (a.timeoutMinutes !== undefined) details.push(`expires after ${a.timeoutMinutes} min`);
      children.push({ label: `${s.yellow('approval')}  manual: ${details.join('; ')}` });
    }
    const rows = stage.targets.map(t => [s.bold(t.id), t.account, t.region]);
    children.push({
      label: `${s.cyan('deploy')}    ${stage.targets.length === 1 ? '1 environment' : `${stage.targets.length} environments in parallel`}`,
      children: columns(rows).map(label => ({ label })),
    });
    for (const t of stage.tests) children.push({ label: `${s.cyan('test')}      ${t}` });
    if (rollbackOf(stage)) children.push({ label: `${s.yellow('rollback')}  to the last successful execution when a deployment fails` });
    const branch = gitflow ? stageBranch(stage) : undefined;
    return { label: `${s.dim(`${i + 1}.`)} stage ${s.bold(stage.name)}${branch !== undefined ? `  (its own pipeline, from branch ${branch})` : ''}`, children };
  });
  const notifications = notificationsOf(plan);
  const review = reviewTree(plan, s);
  return {
    label: `pipeline ${s.bold(plan.name)}  (${plan.strategy}, ${plan.executionMode}) in ${plan.cicd.account} / ${plan.cicd.region}`,
    children: [
      { label: `source    ${describeSource(plan.source)}${gitflow ? '; one pipeline per stage, each from its branch' : ''}` },
      { label: `build     ${plan.synthCommands.join(' && ')}` },
      ...(plan.strategy === PipelineStrategy.CDK_PIPELINES ? [{ label: 'update    the pipeline updates itself (self-mutation)' }] : []),
      { label: `deploy    ${plan.useChangeSets ? 'through CloudFormation change sets (prepare, execute)' : 'directly (no change sets)'}` },
      ...(notifications ? [{
        label: `notify    ${notifications.events.join(', ')} → ${notifications.topicArn ?? (notifications.emails.length > 0 ? notifications.emails.join(', ') : 'a created topic')}`,
      }] : []),
      ...stageNodes,
      ...(review ? [review] : []),
    ],
  };
}

/** The plan tree as text. */
export function renderPlan(plan: DeliveryPlan, s: Style = makeStyle(false)): string {
  return `${renderTree(planTree(plan, s)).join('\n')}\n`;
}
