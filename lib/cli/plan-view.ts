import { DeliveryPlan, PipelineStrategy, PlanSource, PlanStage, ReleasePlan, SourceKind } from '../model';
import { RELEASE_NODE_TEXT, reviewStackPattern, stageBranch } from './graph';
import { columns, Style, style as makeStyle } from './io';
import { serviceStageName } from '../releases/shared';
import { describeWindow } from '../safety/windows';

/** The JSON form of a plan printed by `plan --json` (stable: scripts read it). */
export interface PlanJson {
  readonly name: string;
  readonly strategy: string;
  readonly executionMode: string;
  readonly selfMutating: boolean;
  readonly useChangeSets: boolean;
  readonly notifications?: { emails: string[]; topicArn?: string; events: string[] };
  /** The pipeline's source (absent with services: each service has its own, in `services`). */
  readonly source?: PlanSourceJson;
  readonly cicd: { account: string; region: string };
  /** The pipeline's build (absent with services: each service has its own, in `services`). */
  readonly build?: { commands: string[] };
  readonly stages: Array<{
    name: string;
    requiredChecks: string[];
    approval: { comment: string; reviewUrl?: string; notify: string[]; timeoutMinutes?: number } | null;
    environments: Array<{ id: string; account: string; region: string; bootstrapQualifier?: string }>;
    tests: string[];
    branch?: string;
    rollbackOnFailure?: boolean;
    /** With services only: whether releases move through the stage as one unit. */
    bracket?: boolean;
    /** Deployment windows (BeforeEntry: all must be open): absent when the stage has none. */
    windows?: Array<{ cron: string; timeZone: string }>;
    /** Whether a change review runs before the approval: absent when it does not. */
    changeReview?: boolean;
    /** The alarm watch after the tests: absent when the stage watches no alarms. */
    alarms?: {
      soakMinutes: number;
      /** Alarms per environment (its account and region), watched by the AlarmWatch action. */
      targets: Array<{ environment: string; alarms: string[] }>;
      /** Alarms in the CICD account and region (CodePipeline's CloudWatchAlarm rule, OnSuccess). */
      cicd: string[];
    };
  }>;
  /** The services (pipeline.services), in ddk.json order: absent when ddk.json has none. */
  readonly services?: Array<{
    name: string;
    /** The service's own pipeline, `<name>-<service>`. */
    pipeline: string;
    source: PlanSourceJson;
    build: { commands: string[] };
    /** `<service>-<environment id>-<stack>`. */
    stackNames: string;
  }>;
  /** How the services are delivered and released: absent without services. */
  readonly releasePlan?: {
    /** The stages each service goes through in its own pipeline, by name. */
    serviceStages: string[];
    /** The stages releases go through as one unit, by name. */
    bracketStages: string[];
    servicePipelines: Array<{ service: string; name: string }>;
    releasePipeline: string;
  };
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

/** A source in `plan --json`. */
export interface PlanSourceJson {
  readonly kind: string;
  readonly repository: string;
  readonly branch: string;
  readonly create: boolean;
  readonly connectionArn?: string;
}

/** The stack names of a service: `<service>-<environment id>-<stack>` (see `ServiceStages`). */
export function serviceStackPattern(service: string): string {
  return serviceStageName(service, '<environment>') + '-<stack>';
}

/** The plan's release plan when it has services (plans of older models have neither). */
function releasePlanOf(plan: DeliveryPlan): ReleasePlan | undefined {
  const release = (plan as { releasePlan?: ReleasePlan }).releasePlan;
  return release && (plan.services ?? []).length > 0 ? release : undefined;
}

/** The plan as plain JSON (no EnvironmentConfig objects). */
export function planJson(plan: DeliveryPlan): PlanJson {
  const release = releasePlanOf(plan);
  return {
    name: plan.name,
    strategy: plan.strategy,
    executionMode: plan.executionMode,
    selfMutating: plan.strategy === PipelineStrategy.CDK_PIPELINES,
    useChangeSets: plan.useChangeSets,
    ...(notificationsOf(plan) ? { notifications: notificationsOf(plan) } : {}),
    ...(release ? {} : { source: { ...plan.source } }),
    cicd: { account: plan.cicd.account, region: plan.cicd.region },
    ...(release ? {} : { build: { commands: [...plan.synthCommands] } }),
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
      ...(release ? { bracket: s.bracket } : {}),
      ...safetyJson(s),
    })),
    ...(release ? {
      services: plan.services.map(svc => ({
        name: svc.name,
        pipeline: release.servicePipelines.find(p => p.service === svc.name)?.name ?? svc.name,
        source: { ...svc.source },
        build: { commands: [...svc.synthCommands] },
        stackNames: serviceStackPattern(svc.name),
      })),
      releasePlan: {
        serviceStages: release.serviceStages.map(st => st.name),
        bracketStages: release.bracketStages.map(st => st.name),
        servicePipelines: release.servicePipelines.map(p => ({ service: p.service, name: p.name })),
        releasePipeline: release.releasePipeline,
      },
    } : {}),
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

/** A stage's deployment-safety fields of `plan --json`: only those the stage has. */
function safetyJson(s: PlanStage): Pick<PlanJson['stages'][number], 'windows' | 'changeReview' | 'alarms'> {
  return {
    ...((s.windows ?? []).length > 0 ? { windows: s.windows.map(w => ({ cron: w.cron, timeZone: w.timeZone })) } : {}),
    ...(s.changeReview ? { changeReview: true } : {}),
    ...(s.alarms ? {
      alarms: {
        soakMinutes: s.alarms.soakMinutes,
        targets: s.alarms.targets.map(t => ({ environment: t.targetId, alarms: [...t.alarms] })),
        cicd: [...s.alarms.cicd],
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

/**
 * The children of a stage in the order they act: windows, gate, change review, approval,
 * deployments in parallel, tests, alarm watch, rollback (a bracket stage's for every service).
 */
function stageChildren(stage: PlanStage, s: Style, services?: string[]): TreeNode[] {
  const children: TreeNode[] = [];
  const windows = stage.windows ?? [];
  for (const w of windows) {
    children.push({ label: `${s.yellow('window')}    ${describeWindow(w)}: ${windows.length > 1 ? 'enters while every window is open' : 'enters while open'}, waits otherwise` });
  }
  if (stage.requiredChecks.length > 0) {
    children.push({ label: `${s.yellow('gate')}      required checks must be success: ${stage.requiredChecks.join(', ')}${services ? '  (reported against the release id)' : ''}` });
  }
  if (stage.changeReview) {
    children.push({
      label: `${s.cyan('changes')}   reviewed before the approval: what the deployments add, modify, replace, remove in each environment (IAM and security groups called out); `
        + `the summary in the approval, the report: ddk-pipelines diff --stage ${stage.name}`,
    });
  }
  if (stage.approval) {
    const a = stage.approval;
    const details = [`"${a.comment}"`];
    if (a.notify.length > 0) details.push(`notify ${a.notify.join(', ')}`);
    if (a.reviewUrl) details.push(`review ${a.reviewUrl}`);
    if (a.timeoutMinutes !== undefined) details.push(`expires after ${a.timeoutMinutes} min`);
    children.push({ label: `${s.yellow('approval')}  manual: ${details.join('; ')}` });
  }
  if (services) {
    // one deployment per service and environment, all in parallel
    const rows = services.flatMap(svc => stage.targets.map(t => [svc, s.bold(t.id), t.account, t.region]));
    const environments = stage.targets.length === 1 ? '1 environment' : `${stage.targets.length} environments`;
    children.push({
      label: `${s.cyan('deploy')}    ${services.length} services × ${environments}, in parallel`,
      children: columns(rows).map(label => ({ label })),
    });
  } else {
    const rows = stage.targets.map(t => [s.bold(t.id), t.account, t.region]);
    children.push({
      label: `${s.cyan('deploy')}    ${stage.targets.length === 1 ? '1 environment' : `${stage.targets.length} environments in parallel`}`,
      children: columns(rows).map(label => ({ label })),
    });
  }
  for (const t of stage.tests) children.push({ label: `${s.cyan('test')}      ${t}${services ? '  (once, against the whole release)' : ''}` });
  const watch = stage.alarms;
  if (watch) {
    const byId = new Map(stage.targets.map(t => [t.id, t]));
    const rows = watch.targets.map(t => [s.bold(t.targetId), byId.get(t.targetId)?.account ?? '', byId.get(t.targetId)?.region ?? '', t.alarms.join(', ')]);
    const count = watch.targets.reduce((n, t) => n + t.alarms.length, 0);
    const nodes = columns(rows).map(label => ({ label }));
    if (watch.cicd.length > 0) nodes.push({ label: `CICD account (CodePipeline CloudWatchAlarm rule, OnSuccess): ${watch.cicd.join(', ')}` });
    children.push({
      label: `${s.yellow('watch')}     ${count + watch.cicd.length} alarm${count + watch.cicd.length === 1 ? '' : 's'} for ${watch.soakMinutes} min after the ${stage.tests.length > 0 ? 'tests' : 'deployments'}; `
        + 'one in ALARM (or missing) rolls the stage back',
      children: nodes,
    });
  }
  if (rollbackOf(stage)) {
    const when = watch ? 'a deployment, a test or the alarm watch fails, or an alarm goes into ALARM' : 'a deployment fails';
    children.push({
      label: `${s.yellow('rollback')}  ${services
        ? `every service to the previous release when ${when}`
        : `to the last successful execution when ${when}`}`,
    });
  }
  return children;
}

/** The header lines of the plan: deployment mode and notifications. */
function deployAndNotify(plan: DeliveryPlan): TreeNode[] {
  const notifications = notificationsOf(plan);
  return [
    { label: `deploy    ${plan.useChangeSets ? 'through CloudFormation change sets (prepare, execute)' : 'directly (no change sets)'}` },
    ...(notifications ? [{
      label: `notify    ${notifications.events.join(', ')} → ${notifications.topicArn ?? (notifications.emails.length > 0 ? notifications.emails.join(', ') : 'a created topic')}`,
    }] : []),
  ];
}

/**
 * A plan with services: each service's own pipeline (source, build, stack names, per-service
 * stages, candidate), the release (started with one revision per service), then the bracket stages.
 */
function releaseTree(plan: DeliveryPlan, release: ReleasePlan, s: Style): TreeNode {
  const number = (stage: PlanStage) => s.dim(`${plan.stages.indexOf(stage) + 1}.`);
  const last = release.serviceStages[release.serviceStages.length - 1];
  const serviceNodes: TreeNode[] = plan.services.map(svc => {
    const pipeline = release.servicePipelines.find(p => p.service === svc.name)?.name ?? svc.name;
    return {
      label: `${s.cyan('service')}   ${s.bold(svc.name)}  (its own pipeline ${pipeline})`,
      children: [
        { label: `source    ${describeSource(svc.source)}` },
        { label: `build     ${svc.synthCommands.join(' && ')}` },
        { label: `stacks    ${serviceStackPattern(svc.name)}  (ServiceStages, from DDK_SERVICE and DDK_ENVIRONMENTS)` },
        ...release.serviceStages.map(stage => ({ label: `${number(stage)} stage ${s.bold(stage.name)}`, children: stageChildren(stage, s) })),
        { label: `${s.cyan('candidate')} a revision that ${last ? `passed stage ${last.name}` : 'built'} becomes ${svc.name}'s candidate for the next release` },
      ],
    };
  });
  const names = plan.services.map(svc => svc.name);
  const bracketNodes: TreeNode[] = release.bracketStages.map((stage, i, all) => ({
    label: `${number(stage)} stage ${s.bold(stage.name)}  (${i === 0
      ? 'bracket: from here on the services move together, as one release'
      : `bracket: the release moves on when ${all[i - 1].name} passes${stage.approval ? ' and the approval is given' : ', automatically'}`})`,
    children: stageChildren(stage, s, names),
  }));
  return {
    label: `pipeline ${s.bold(plan.name)}  (${plan.strategy}, ${plan.executionMode}) in ${plan.cicd.account} / ${plan.cicd.region}`,
    children: [
      ...deployAndNotify(plan),
      ...serviceNodes,
      {
        label: `${s.cyan('release')}   ${RELEASE_NODE_TEXT} (${names.join(', ')}), exactly that set through every bracket stage; `
          + `a service left out takes its candidate  (pipeline ${release.releasePipeline})`,
      },
      ...bracketNodes,
    ],
  };
}

/** The plan as a tree: stages in order; gate, approval, parallel deployments and tests in each; then the review path. */
export function planTree(plan: DeliveryPlan, s: Style = makeStyle(false)): TreeNode {
  const release = releasePlanOf(plan);
  if (release) return releaseTree(plan, release, s);
  const gitflow = plan.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW;
  const stageNodes: TreeNode[] = plan.stages.map((stage, i) => {
    const branch = gitflow ? stageBranch(stage) : undefined;
    return { label: `${s.dim(`${i + 1}.`)} stage ${s.bold(stage.name)}${branch !== undefined ? `  (its own pipeline, from branch ${branch})` : ''}`, children: stageChildren(stage, s) };
  });
  const review = reviewTree(plan, s);
  return {
    label: `pipeline ${s.bold(plan.name)}  (${plan.strategy}, ${plan.executionMode}) in ${plan.cicd.account} / ${plan.cicd.region}`,
    children: [
      { label: `source    ${describeSource(plan.source)}${gitflow ? '; one pipeline per stage, each from its branch' : ''}` },
      { label: `build     ${plan.synthCommands.join(' && ')}` },
      ...(plan.strategy === PipelineStrategy.CDK_PIPELINES ? [{ label: 'update    the pipeline updates itself (self-mutation)' }] : []),
      ...deployAndNotify(plan),
      ...stageNodes,
      ...(review ? [review] : []),
    ],
  };
}

/** The plan tree as text. */
export function renderPlan(plan: DeliveryPlan, s: Style = makeStyle(false)): string {
  return `${renderTree(planTree(plan, s)).join('\n')}\n`;
}
