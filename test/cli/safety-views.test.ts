import { assertWellFormedXml, bundleCli, execCli, exampleDoc, writeDdk } from './helpers';
import { safetyDoc } from './safety-fixtures';
import { allNodes, deliveryGraph, toDot, toMermaid } from '../../lib/cli/graph';
import { planJson, renderPlan } from '../../lib/cli/plan-view';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

/*
 * Deployment safety in `plan` and `graph`: the windows, the change review before the approval,
 * the alarm watch after the tests and the rollback, in the order they act inside a stage.
 */

const planOf = (doc: unknown) => DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));

describe('plan: deployment safety per stage', () => {
  test('window → gate → change review → approval → deploy → tests → alarm watch → rollback', () => {
    const text = renderPlan(planOf(safetyDoc()));
    const prod = text.slice(text.indexOf('2. stage production'));
    expect(prod).toBe([
      '2. stage production',
      '   ├─ window    "* * 9-16 ? * MON-FRI" (Europe/Berlin): enters while open, waits otherwise',
      '   ├─ gate      required checks must be success: ci/integration',
      '   ├─ changes   reviewed before the approval: what the deployments add, modify, replace, remove in each environment (IAM and security groups called out); '
        + 'the summary in the approval, the report: ddk-pipelines diff --stage production',
      '   ├─ approval  manual: "Check the dev deployment first"; notify release-managers@example.com',
      '   ├─ deploy    2 environments in parallel',
      '   │  ├─ prod-eu  333333333333  eu-west-1',
      '   │  └─ prod-us  444444444444  us-east-1',
      '   ├─ test      npm run smoke',
      '   ├─ watch     4 alarms for 15 min after the tests; one in ALARM (or missing) rolls the stage back',
      '   │  ├─ prod-eu  333333333333  eu-west-1  latency-p99, api-5xx',
      '   │  ├─ prod-us  444444444444  us-east-1  latency-p99',
      '   │  └─ CICD account (CodePipeline CloudWatchAlarm rule, OnSuccess): pipeline-canary',
      '   └─ rollback  to the last successful execution when a deployment, a test or the alarm watch fails, or an alarm goes into ALARM',
      '',
    ].join('\n'));
  });

  test('several windows: each on its line, all must be open', () => {
    const doc = safetyDoc();
    doc.pipeline.stages[1].window = [{ cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' }, { cron: '* * * ? 1-11 *' }];
    const text = renderPlan(planOf(doc));
    expect(text).toContain('window    "* * 9-16 ? * MON-FRI" (Europe/Berlin): enters while every window is open, waits otherwise');
    expect(text).toContain('window    "* * * ? 1-11 *" (UTC): enters while every window is open, waits otherwise');
  });

  test('plan --json: windows, changeReview and alarms on the stage that has them, absent elsewhere', () => {
    const json = planJson(planOf(safetyDoc()));
    expect(json.stages[1]).toMatchObject({
      rollbackOnFailure: true,
      windows: [{ cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' }],
      changeReview: true,
      alarms: {
        soakMinutes: 15,
        targets: [{ environment: 'prod-eu', alarms: ['latency-p99', 'api-5xx'] }, { environment: 'prod-us', alarms: ['latency-p99'] }],
        cicd: ['pipeline-canary'],
      },
    });
    for (const key of ['windows', 'changeReview', 'alarms']) expect(json.stages[0]).not.toHaveProperty(key);
  });

  test('a plan without the keys prints and serializes as before (no window, changes, watch lines or keys)', () => {
    const plan = planOf(exampleDoc());
    expect(renderPlan(plan)).not.toMatch(/window|changes|watch/);
    for (const st of planJson(plan).stages) for (const key of ['windows', 'changeReview', 'alarms']) expect(st).not.toHaveProperty(key);
  });

  test('alarms of an environment alone (no stage alarms): the watch counts them, no CICD line; default soak', () => {
    const doc = exampleDoc();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.environments.dev.alarms = ['dev-5xx'];
    const text = renderPlan(planOf(doc));
    expect(text).toContain('watch     1 alarm for 10 min after the deployments; one in ALARM (or missing) rolls the stage back');
    expect(text).not.toContain('CICD account');
  });
});

describe('graph: deployment safety per stage', () => {
  test('inside the stage: window → gate → change review → approval → deploy → tests → alarm watch', () => {
    const graph = deliveryGraph(planOf(safetyDoc()));
    const prod = graph.clusters[1];
    expect(prod.nodes.map(n => n.kind)).toEqual(['window', 'gate', 'changeReview', 'approval', 'deploy', 'deploy', 'test', 'alarmWatch']);
    expect(prod.nodes[0]).toEqual({ id: 'stage2_window', kind: 'window', title: 'Deployment window', details: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)', 'enters while open'] });
    expect(prod.nodes[7].details).toEqual(['prod-eu: latency-p99, api-5xx', 'prod-us: latency-p99', 'CICD: pipeline-canary', 'for 15 min; ALARM → rollback']);
    expect(prod.entry).toEqual(['stage2_window']);
    expect(prod.exit).toEqual(['stage2_alarmwatch']);
    expect(graph.edges.filter(e => e.from.startsWith('stage2_'))).toEqual([
      { from: 'stage2_window', to: 'stage2_gate' },
      { from: 'stage2_gate', to: 'stage2_changereview' },
      { from: 'stage2_changereview', to: 'stage2_approval' },
      { from: 'stage2_approval', to: 'stage2_env1' },
      { from: 'stage2_approval', to: 'stage2_env2' },
      { from: 'stage2_env1', to: 'stage2_tests' },
      { from: 'stage2_env2', to: 'stage2_tests' },
      { from: 'stage2_tests', to: 'stage2_alarmwatch' },
    ]);
  });

  test('Gitflow: the stage pipeline\'s source and build come before the window (BeforeEntry of its deploy stage)', () => {
    const doc = safetyDoc('codepipeline-gitflow');
    doc.pipeline.stages[0].branch = 'develop';
    const prod = deliveryGraph(planOf(doc)).clusters[1];
    expect(prod.nodes.slice(0, 3).map(n => n.kind)).toEqual(['source', 'build', 'window']);
  });

  test('Mermaid: the new shapes and classes, only in graphs that draw them', () => {
    const mermaid = toMermaid(deliveryGraph(planOf(safetyDoc())));
    expect(mermaid).toContain('stage2_window[\\"<b>Deployment window</b><br/>#quot;* * 9-16 ? * MON-FRI#quot; (Europe/Berlin)<br/>enters while open"\\]:::window');
    expect(mermaid).toContain('stage2_changereview[\\"<b>Change review</b><br/>diff against the deployed stacks, 2 environments<br/>summary in the approval"/]:::changeReview');
    expect(mermaid).toMatch(/stage2_alarmwatch>".*"\]:::alarmWatch/);
    for (const c of ['window', 'changeReview', 'alarmWatch']) expect(mermaid).toMatch(new RegExp(`^  classDef ${c} `, 'm'));
    const plain = toMermaid(deliveryGraph(planOf(exampleDoc())));
    expect(plain).not.toMatch(/window|changeReview|alarmWatch/);
  });

  test('DOT renders to SVG (the bundled CLI, Graphviz in WebAssembly) with every safety node drawn', () => {
    const graph = deliveryGraph(planOf(safetyDoc()));
    expect(toDot(graph)).toContain('shape=parallelogram');
    const { dir } = writeDdk(safetyDoc());
    const r = execCli(bundleCli(), ['graph', '-f', 'svg'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(assertWellFormedXml(r.stdout)).toBe('svg');
    for (const n of allNodes(graph)) expect(r.stdout).toContain(`<title>${n.id}</title>`);
  });
});
