import { DeliveryPlan, PipelineStrategy, PlanService, PlanStage, ReleasePlan, SourceKind } from '../model';
import { reviewStackNamespace } from '../reviews/shared';
import { describeWindow } from '../safety/windows';

/*
 * The delivery graph of a plan — source → build → (self-mutation) → stages; in each stage the
 * deployment windows, the gate (required checks), the change review, the manual approval, the
 * environments deployed in parallel, the tests and the alarm watch — with, apart from it, the review path of pull requests (when ddk.json has
 * pipeline.review), and its renderings as Graphviz DOT and Mermaid. With services (release
 * brackets), each service's own path (source → build → its per-service stages → candidate)
 * joins the release node, followed by the bracket stages. Pure: no I/O.
 */

/** What a node stands for. */
export type GraphNodeKind = 'source' | 'build' | 'update' | 'window' | 'gate' | 'changeReview' | 'approval' | 'deploy' | 'test' | 'alarmWatch'
| 'teardown' | 'candidate' | 'release';

/** A node: a title and detail lines. */
export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly title: string;
  readonly details: string[];
}

/** A stage: a box around its nodes. */
export interface GraphCluster {
  readonly id: string;
  /** The stage name. */
  readonly label: string;
  /** Position of the stage (1-based). */
  readonly order: number;
  readonly nodes: GraphNode[];
  /** The nodes an arrow into the stage points at (its window, else gate, else change review, else approval, else deployments). */
  readonly entry: string[];
  /** The nodes an arrow out of the stage leaves from (its alarm watch, else tests, else deployments). */
  readonly exit: string[];
}

/** An arrow between two nodes, or between a node or stage and a stage (`from`/`to` a cluster id). */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** A promotion between the per-branch pipelines of the Gitflow strategy (a merge), drawn dashed. */
  readonly label?: string;
}

/**
 * The review path: a pull request into the review branches → its review deployment in the
 * review environment (→ its tests) → teardown when it closes. No edge joins it to the stages.
 */
export interface GraphReviewPath {
  /** The box's id (`review`). */
  readonly id: string;
  /** The box's title. */
  readonly label: string;
  /** Pull request, review deployment, tests (when configured), teardown. */
  readonly nodes: GraphNode[];
}

/**
 * A service's own path (release brackets): its source → its build → the per-service stages →
 * its candidate, in a box of its own (the service's pipeline). Its arrows are in the graph's
 * `edges`; the candidate leads to the release node.
 */
export interface GraphServicePath {
  /** The box's id (`service1`, in ddk.json order). */
  readonly id: string;
  /** The service's name. */
  readonly label: string;
  /** The service's pipeline (`<name>-<service>`). */
  readonly pipeline: string;
  /** Source, build and candidate. */
  readonly nodes: GraphNode[];
  /** The per-service stages (boxes inside the service's box). */
  readonly clusters: GraphCluster[];
}

/** The delivery graph of a plan. */
export interface DeliveryGraph {
  readonly name: string;
  /** Nodes outside any stage (source, build, update; with services: the release node). */
  readonly nodes: GraphNode[];
  /** The stages (with services: the bracket stages). */
  readonly clusters: GraphCluster[];
  /** Every arrow: between stages, inside stages, along the service paths and the review path. */
  readonly edges: GraphEdge[];
  /**
   * The review path of pull requests, drawn apart from the delivery path.
   *
   * @default - none (no pipeline.review in ddk.json)
   */
  readonly review?: GraphReviewPath;
  /**
   * Each service's own path, joining into the release node (plans with services).
   *
   * @default - none (one application)
   */
  readonly services?: GraphServicePath[];
}

/**
 * The names of a pipeline's review stacks: `<pipeline>-review-<review id>-<stack id>`, the
 * review id being `pr<number>` (CodeCommit) or `b-<branch>-<hash>` (connection sources).
 */
export function reviewStackPattern(plan: Pick<DeliveryPlan, 'name' | 'source'>): string {
  const id = plan.source.kind === SourceKind.CODECOMMIT ? 'pr<number>' : 'b-<branch>-<hash>';
  return `${reviewStackNamespace(plan.name)}${id}-<stack>`;
}

/** When a review deployment is torn down: `closed or merged, or 72 h without an update`. */
export function teardownWhen(ttlHours: number): string {
  return `closed or merged${ttlHours > 0 ? `, or ${ttlHours} h without an update` : ''}`;
}

/** The review path of a plan with pipeline.review; its arrows are added to `edges`. */
function reviewPath(plan: DeliveryPlan, host: string, edges: GraphEdge[]): GraphReviewPath | undefined {
  const review = plan.review;
  if (!review) return undefined;
  const t = review.target;
  const forks = plan.source.kind === SourceKind.CONNECTION ? [review.allowForks ? 'forks deploy too' : 'forks refused'] : [];
  const nodes: GraphNode[] = [
    { id: 'review_pr', kind: 'source', title: 'Pull request', details: [`into ${review.branches.join(', ')}`, `${plan.source.repository}, ${host}`, ...forks] },
    { id: 'review_deploy', kind: 'deploy', title: `Review deployment: ${t.id}`, details: [t.account, t.region, reviewStackPattern(plan)] },
  ];
  if (review.tests.length > 0) nodes.push({ id: 'review_tests', kind: 'test', title: 'Review tests', details: [...review.tests] });
  nodes.push({ id: 'review_teardown', kind: 'teardown', title: 'Teardown', details: ['delete the review stacks', 'or by hand: reviews destroy'] });
  for (let k = 1; k < nodes.length; k++) {
    const last = k === nodes.length - 1;
    edges.push(last ? { from: nodes[k - 1].id, to: nodes[k].id, label: teardownWhen(review.ttlHours) } : { from: nodes[k - 1].id, to: nodes[k].id });
  }
  return { id: 'review', label: 'review deployments, one per pull request', nodes };
}

/** How `stageCluster` draws a stage. */
interface StageClusterOptions {
  /** Nodes before the gate (Gitflow: the stage pipeline's source and build). */
  readonly head?: GraphNode[];
  /** A bracket stage: every one of these services deploys into each environment; the gate and tests cover the release. */
  readonly services?: string[];
}

/**
 * A stage's box: (head →) gate → approval → deployments in parallel → tests, the arrows between
 * them added to `edges`.
 */
function stageCluster(
  stage: PlanStage, at: { id: string; label: string; order: number }, edges: GraphEdge[], options: StageClusterOptions = {},
): GraphCluster {
  const id = at.id;
  const inner: GraphNode[] = [...(options.head ?? [])];
  const chain: string[][] = inner.map(n => [n.id]);
  const services = options.services;
  if (stage.windows.length > 0) {
    // BeforeEntry: the execution waits outside the windows (all of them must be open)
    const details = [...stage.windows.map(describeWindow), stage.windows.length > 1 ? 'enters while all are open' : 'enters while open'];
    inner.push({ id: `${id}_window`, kind: 'window', title: stage.windows.length > 1 ? 'Deployment windows' : 'Deployment window', details });
    chain.push([`${id}_window`]);
  }
  if (stage.requiredChecks.length > 0) {
    const details = [...stage.requiredChecks, ...(services ? ['on the release id'] : [])];
    inner.push({ id: `${id}_gate`, kind: 'gate', title: 'Gate: required checks', details });
    chain.push([`${id}_gate`]);
  }
  if (stage.changeReview) {
    const targets = services ? `${services.length} services × ${stage.targets.length} env.` : stage.targets.length === 1 ? '1 environment' : `${stage.targets.length} environments`;
    inner.push({ id: `${id}_changereview`, kind: 'changeReview', title: 'Change review', details: [`diff against the deployed stacks, ${targets}`, 'summary in the approval'] });
    chain.push([`${id}_changereview`]);
  }
  if (stage.approval) {
    const a = stage.approval;
    const details = [a.comment];
    if (a.notify.length > 0) details.push(`notify ${a.notify.join(', ')}`);
    if (a.timeoutMinutes !== undefined) details.push(`expires after ${a.timeoutMinutes} min`);
    inner.push({ id: `${id}_approval`, kind: 'approval', title: 'Manual approval', details });
    chain.push([`${id}_approval`]);
  }
  const deployIds: string[] = [];
  if (services) {
    // one deployment per service and environment, all in parallel
    services.forEach((service, k) => stage.targets.forEach((t, j) => {
      const nodeId = `${id}_service${k + 1}_env${j + 1}`;
      inner.push({ id: nodeId, kind: 'deploy', title: service, details: [t.id, t.account, t.region] });
      deployIds.push(nodeId);
    }));
  } else {
    stage.targets.forEach((t, j) => {
      inner.push({ id: `${id}_env${j + 1}`, kind: 'deploy', title: t.id, details: [t.account, t.region] });
      deployIds.push(`${id}_env${j + 1}`);
    });
  }
  chain.push(deployIds);
  if (stage.tests.length > 0) {
    inner.push({ id: `${id}_tests`, kind: 'test', title: services ? 'Tests, once per release' : 'Tests', details: [...stage.tests] });
    chain.push([`${id}_tests`]);
  }
  if (stage.alarms) {
    const w = stage.alarms;
    const details = [
      ...w.targets.map(t => `${t.targetId}: ${t.alarms.join(', ')}`),
      ...(w.cicd.length > 0 ? [`CICD: ${w.cicd.join(', ')}`] : []),
      `for ${w.soakMinutes} min; ALARM → rollback`,
    ];
    inner.push({ id: `${id}_alarmwatch`, kind: 'alarmWatch', title: 'Alarm watch', details });
    chain.push([`${id}_alarmwatch`]);
  }
  for (let k = 1; k < chain.length; k++) {
    for (const from of chain[k - 1]) for (const to of chain[k]) edges.push({ from, to });
  }
  return { id, label: at.label, order: at.order, nodes: inner, entry: chain[0], exit: chain[chain.length - 1] };
}

/** The text of the release node: how a release starts. */
export const RELEASE_NODE_TEXT = 'release start: one revision per service';

/**
 * The graph of a plan with services: each service's path (source → build → per-service stages →
 * candidate) in its own box, every candidate leading to the release node, then the bracket
 * stages, each deploying every service.
 */
function releaseGraph(plan: DeliveryPlan, release: ReleasePlan): DeliveryGraph {
  const edges: GraphEdge[] = [];
  const orderOf = (stage: PlanStage) => plan.stages.indexOf(stage) + 1;
  const lastServiceStage = release.serviceStages[release.serviceStages.length - 1];
  const services = plan.services.map((svc: PlanService, k): GraphServicePath => {
    const id = `service${k + 1}`;
    const host = svc.source.kind === SourceKind.CONNECTION ? 'CodeConnections' : 'CodeCommit';
    const nodes: GraphNode[] = [
      { id: `${id}_source`, kind: 'source', title: 'Source', details: [`${svc.source.repository} @ ${svc.source.branch}`, host] },
      { id: `${id}_build`, kind: 'build', title: 'Build', details: [...svc.synthCommands] },
      {
        id: `${id}_candidate`,
        kind: 'candidate',
        title: 'Candidate',
        details: [lastServiceStage ? `a revision that passed ${lastServiceStage.name}` : 'a revision that built', 'for the next release'],
      },
    ];
    const clusters = release.serviceStages.map(stage => stageCluster(stage, { id: `${id}_stage${orderOf(stage)}`, label: stage.name, order: orderOf(stage) }, edges));
    const path = [`${id}_source`, `${id}_build`, ...clusters.map(c => c.id), `${id}_candidate`, 'release'];
    for (let j = 1; j < path.length; j++) edges.push({ from: path[j - 1], to: path[j] });
    const pipeline = release.servicePipelines.find(p => p.service === svc.name)?.name ?? svc.name;
    return { id, label: svc.name, pipeline, nodes, clusters };
  });
  const releaseNode: GraphNode = { id: 'release', kind: 'release', title: 'Release', details: [RELEASE_NODE_TEXT, `pipeline ${release.releasePipeline}`] };
  const names = plan.services.map(svc => svc.name);
  const clusters = release.bracketStages.map(stage => stageCluster(stage, { id: `stage${orderOf(stage)}`, label: stage.name, order: orderOf(stage) }, edges, { services: names }));
  let previous = releaseNode.id;
  for (const c of clusters) {
    edges.push({ from: previous, to: c.id });
    previous = c.id;
  }
  const review = reviewPath(plan, plan.source.kind === SourceKind.CONNECTION ? 'CodeConnections' : 'CodeCommit', edges);
  return { name: plan.name, nodes: [releaseNode], clusters, edges, services, ...(review ? { review } : {}) };
}

/** The branch a stage's pipeline runs from (Gitflow), when the plan has one. */
export function stageBranch(stage: PlanStage): string | undefined {
  const branch = (stage as { branch?: unknown }).branch;
  return typeof branch === 'string' ? branch : undefined;
}

/**
 * Builds the delivery graph of a plan. Trunk strategies: one pipeline, source → build →
 * (self-mutation) → stages in order. Gitflow: one pipeline per stage, each from its own branch,
 * joined by dashed promotions (merges).
 */
export function deliveryGraph(plan: DeliveryPlan): DeliveryGraph {
  const release = (plan as { releasePlan?: ReleasePlan }).releasePlan;
  if (release && (plan.services ?? []).length > 0) return releaseGraph(plan, release);
  const src = plan.source;
  const host = src.kind === SourceKind.CONNECTION ? 'CodeConnections' : 'CodeCommit';
  const gitflow = plan.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW;
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  let previous = 'build';
  if (!gitflow) {
    nodes.push(
      { id: 'source', kind: 'source', title: 'Source', details: [`${src.repository} @ ${src.branch}`, host] },
      { id: 'build', kind: 'build', title: 'Build', details: [...plan.synthCommands] },
    );
    edges.push({ from: 'source', to: 'build' });
  }
  if (plan.strategy === PipelineStrategy.CDK_PIPELINES) {
    nodes.push({ id: 'update', kind: 'update', title: 'UpdatePipeline', details: ['self-mutation'] });
    edges.push({ from: 'build', to: 'update' });
    previous = 'update';
  }

  const clusters = plan.stages.map((stage, i): GraphCluster => {
    const id = `stage${i + 1}`;
    const head: GraphNode[] = [];
    if (gitflow) {
      const branch = stageBranch(stage) ?? src.branch;
      head.push({ id: `${id}_source`, kind: 'source', title: 'Source', details: [`${src.repository} @ ${branch}`, host] });
      head.push({ id: `${id}_build`, kind: 'build', title: 'Build', details: [...plan.synthCommands] });
    }
    const label = gitflow ? `${stage.name} (branch ${stageBranch(stage) ?? src.branch})` : stage.name;
    return stageCluster(stage, { id, label, order: i + 1 }, edges, { head });
  });
  clusters.forEach((c, i) => {
    if (!gitflow) edges.push({ from: previous, to: c.id });
    else if (i > 0) edges.push({ from: clusters[i - 1].id, to: c.id, label: `merge to ${stageBranch(plan.stages[i]) ?? src.branch}` });
    previous = c.id;
  });
  const review = reviewPath(plan, host, edges);
  return { name: plan.name, nodes, clusters, edges, ...(review ? { review } : {}) };
}

const DOT_STYLE: Record<GraphNodeKind, string> = {
  source: 'shape=cylinder, style=filled, fillcolor="#e8eaf6", color="#3949ab"',
  build: 'shape=box, style="rounded,filled", fillcolor="#e8eaf6", color="#3949ab"',
  update: 'shape=box, style="rounded,filled", fillcolor="#e8eaf6", color="#3949ab"',
  window: 'shape=parallelogram, style=filled, fillcolor="#eceff1", color="#546e7a"',
  changeReview: 'shape=box, style="rounded,filled", fillcolor="#f3e5f5", color="#6a1b9a"',
  alarmWatch: 'shape=octagon, style=filled, fillcolor="#ffebee", color="#c62828"',
  gate: 'shape=hexagon, style=filled, fillcolor="#fff8e1", color="#f9a825"',
  approval: 'shape=box, style="rounded,filled,bold", fillcolor="#fff3e0", color="#ef6c00"',
  deploy: 'shape=box, style="filled", fillcolor="#e3f2fd", color="#1565c0"',
  test: 'shape=note, style=filled, fillcolor="#e8f5e9", color="#2e7d32"',
  teardown: 'shape=box, style="rounded,filled,dashed", fillcolor="#fce4ec", color="#ad1457"',
  candidate: 'shape=box, style="rounded,filled,dashed", fillcolor="#ede7f6", color="#5e35b1"',
  release: 'shape=box, style="rounded,filled,bold", fillcolor="#d1c4e9", color="#4527a0", penwidth=2',
};

/** Escapes text for a Graphviz HTML-like label. */
function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escapes text for a quoted Graphviz string. */
function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function dotLabel(node: GraphNode): string {
  const details = node.details.map(d => `<BR/><FONT POINT-SIZE="10">${html(d)}</FONT>`).join('');
  return `<<B>${html(node.title)}</B>${details}>`;
}

/** The representative node of a cluster for arrows into (`entry`) or out of (`exit`) it. */
function middle(ids: string[]): string {
  return ids[Math.floor((ids.length - 1) / 2)];
}

/** The graph as Graphviz DOT (left to right; one box per stage; compound arrows between stages). */
export function toDot(graph: DeliveryGraph): string {
  const out: string[] = [];
  out.push(`digraph ${quoted(graph.name)} {`);
  out.push('  graph [rankdir=LR, compound=true, ordering=out, nodesep=0.3, ranksep=0.5, fontname="Helvetica", '
    + `label=${quoted(`delivery graph of ${graph.name}`)}, labelloc=t, fontsize=16];`);
  out.push('  node [fontname="Helvetica", fontsize=12, margin="0.2,0.1"];');
  out.push('  edge [color="#555555", arrowsize=0.8];');
  for (const n of graph.nodes) out.push(`  ${n.id} [label=${dotLabel(n)}, ${DOT_STYLE[n.kind]}];`);
  const services = graph.services ?? [];
  const clusterById = new Map([...services.flatMap(p => p.clusters), ...graph.clusters].map(c => [c.id, c]));
  const stageBox = (c: GraphCluster, indent: string) => {
    out.push(`${indent}subgraph cluster_${c.id} {`);
    out.push(`${indent}  label=<<FONT POINT-SIZE="10">stage ${c.order}</FONT><BR/><B>${html(c.label)}</B>>;`);
    out.push(`${indent}  style="rounded,dashed"; color="#78909c"; fontname="Helvetica";`);
    // Declared last-first: with rankdir=LR, Graphviz stacks the nodes of one rank bottom-up.
    for (const n of [...c.nodes].reverse()) out.push(`${indent}  ${n.id} [label=${dotLabel(n)}, ${DOT_STYLE[n.kind]}];`);
    out.push(`${indent}}`);
  };
  for (const p of services) {
    // each service's own pipeline: a box around its source, build, per-service stages and candidate
    out.push(`  subgraph cluster_${p.id} {`);
    out.push(`    label=<<FONT POINT-SIZE="10">pipeline ${html(p.pipeline)}</FONT><BR/><B>${html(p.label)}</B>>;`);
    out.push('    style="rounded"; color="#5e35b1"; fontname="Helvetica";');
    for (const n of p.nodes) out.push(`    ${n.id} [label=${dotLabel(n)}, ${DOT_STYLE[n.kind]}];`);
    for (const c of p.clusters) stageBox(c, '    ');
    out.push('  }');
  }
  for (const c of graph.clusters) stageBox(c, '  ');
  if (graph.review) {
    // Apart from the stages: its own filled box, in the colour of pull requests.
    out.push(`  subgraph cluster_${graph.review.id} {`);
    out.push(`    label=<<FONT POINT-SIZE="10">pull requests</FONT><BR/><B>${html(graph.review.label)}</B>>;`);
    out.push('    style="rounded,filled"; fillcolor="#faf5fc"; color="#8e24aa"; fontname="Helvetica";');
    for (const n of [...graph.review.nodes].reverse()) out.push(`    ${n.id} [label=${dotLabel(n)}, ${DOT_STYLE[n.kind]}];`);
    out.push('  }');
  }
  // With rankdir=LR and ordering=out, Graphviz places a node's later out-edges higher up: emit
  // each node's out-edges in reverse so that parallel environments read top-down in file order.
  const edges = [...graph.edges].map((e, i) => ({ e, i })).sort((a, b) =>
    a.e.from === b.e.from ? b.i - a.i : a.i - b.i).map(x => x.e);
  for (const e of edges) {
    const from = clusterById.get(e.from);
    const to = clusterById.get(e.to);
    const attrs: string[] = [];
    if (from) attrs.push(`ltail=cluster_${from.id}`);
    if (to) attrs.push(`lhead=cluster_${to.id}`);
    const tail = from ? middle(from.exit) : e.from;
    const head = to ? middle(to.entry) : e.to;
    if (e.label !== undefined) attrs.push('style=dashed', `label=${quoted(e.label)}`, 'fontname="Helvetica"', 'fontsize=10');
    out.push(`  ${tail} -> ${head}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

const MERMAID_SHAPE: Record<GraphNodeKind, [string, string]> = {
  source: ['[(', ')]'],
  build: ['(', ')'],
  update: ['(', ')'],
  window: ['[\\', '\\]'],
  changeReview: ['[\\', '/]'],
  alarmWatch: ['>', ']'],
  gate: ['{{', '}}'],
  approval: ['([', '])'],
  deploy: ['[', ']'],
  test: ['[[', ']]'],
  teardown: ['>', ']'],
  candidate: ['[/', '/]'],
  release: ['[/', '\\]'],
};

/** Every node of a graph: outside stages, in stages, on the service and review paths. */
export function allNodes(graph: DeliveryGraph): GraphNode[] {
  const services = graph.services ?? [];
  return [
    ...graph.nodes,
    ...services.flatMap(p => [...p.nodes, ...p.clusters.flatMap(c => c.nodes)]),
    ...graph.clusters.flatMap(c => c.nodes),
    ...(graph.review?.nodes ?? []),
  ];
}

/** Escapes text for a quoted Mermaid label (entity codes for quotes and angle brackets). */
function mermaidText(text: string): string {
  return text.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function mermaidNode(n: GraphNode): string {
  const [open, close] = MERMAID_SHAPE[n.kind];
  const label = [`<b>${mermaidText(n.title)}</b>`, ...n.details.map(mermaidText)].join('<br/>');
  return `${n.id}${open}"${label}"${close}:::${n.kind}`;
}

/** The graph as a Mermaid flowchart (renders in GitHub and GitLab Markdown). */
export function toMermaid(graph: DeliveryGraph): string {
  const out: string[] = ['flowchart LR'];
  for (const n of graph.nodes) out.push(`  ${mermaidNode(n)}`);
  const stageBox = (c: GraphCluster, indent: string) => {
    out.push(`${indent}subgraph ${c.id}["${c.order}. ${mermaidText(c.label)}"]`);
    out.push(`${indent}  direction LR`);
    for (const n of c.nodes) out.push(`${indent}  ${mermaidNode(n)}`);
    out.push(`${indent}end`);
  };
  for (const p of graph.services ?? []) {
    out.push(`  subgraph ${p.id}["${mermaidText(p.label)} (pipeline ${mermaidText(p.pipeline)})"]`);
    out.push('    direction LR');
    for (const n of p.nodes) out.push(`    ${mermaidNode(n)}`);
    for (const c of p.clusters) stageBox(c, '    ');
    out.push('  end');
  }
  for (const c of graph.clusters) stageBox(c, '  ');
  if (graph.review) {
    out.push(`  subgraph ${graph.review.id}["${mermaidText(graph.review.label)}"]`);
    out.push('    direction LR');
    for (const n of graph.review.nodes) out.push(`    ${mermaidNode(n)}`);
    out.push('  end');
  }
  for (const e of graph.edges) out.push(e.label !== undefined ? `  ${e.from} -. "${mermaidText(e.label)}" .-> ${e.to}` : `  ${e.from} --> ${e.to}`);
  out.push('  classDef source fill:#e8eaf6,stroke:#3949ab');
  out.push('  classDef build fill:#e8eaf6,stroke:#3949ab');
  out.push('  classDef update fill:#e8eaf6,stroke:#3949ab');
  out.push('  classDef gate fill:#fff8e1,stroke:#f9a825');
  out.push('  classDef approval fill:#fff3e0,stroke:#ef6c00');
  out.push('  classDef deploy fill:#e3f2fd,stroke:#1565c0');
  out.push('  classDef test fill:#e8f5e9,stroke:#2e7d32');
  // deployment safety: only when drawn, so that graphs without it stay as they were
  const kinds = new Set(allNodes(graph).map(n => n.kind));
  if (kinds.has('window')) out.push('  classDef window fill:#eceff1,stroke:#546e7a');
  if (kinds.has('changeReview')) out.push('  classDef changeReview fill:#f3e5f5,stroke:#6a1b9a');
  if (kinds.has('alarmWatch')) out.push('  classDef alarmWatch fill:#ffebee,stroke:#c62828');
  if (graph.review) {
    out.push('  classDef teardown fill:#fce4ec,stroke:#ad1457');
    out.push(`  style ${graph.review.id} fill:#faf5fc,stroke:#8e24aa`);
  }
  if (graph.services && graph.services.length > 0) {
    out.push('  classDef candidate fill:#ede7f6,stroke:#5e35b1,stroke-dasharray:4');
    out.push('  classDef release fill:#d1c4e9,stroke:#4527a0,stroke-width:2px');
    for (const p of graph.services) out.push(`  style ${p.id} fill:#fbfaff,stroke:#5e35b1`);
  }
  return `${out.join('\n')}\n`;
}
