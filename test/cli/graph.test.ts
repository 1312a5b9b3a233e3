import { exampleDoc } from './helpers';
import { graphFormat } from '../../lib/cli/commands';
import { deliveryGraph, toDot, toMermaid } from '../../lib/cli/graph';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';
import { fooDocument } from '../releases/fixtures';

const planOf = (doc: unknown) => DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));

describe('delivery graph', () => {
  const graph = deliveryGraph(planOf(exampleDoc()));

  test('source → build → self-mutation → development → production', () => {
    expect(graph.nodes.map(n => n.id)).toEqual(['source', 'build', 'update']);
    expect(graph.clusters.map(c => c.label)).toEqual(['development', 'production']);
    expect(graph.edges.filter(e => !e.from.includes('_') && !e.to.includes('_'))).toEqual([
      { from: 'source', to: 'build' },
      { from: 'build', to: 'update' },
      { from: 'update', to: 'stage1' },
      { from: 'stage1', to: 'stage2' },
    ]);
  });

  test('in a stage: gate, then approval, then the environments in parallel, then the tests', () => {
    const prod = graph.clusters[1];
    expect(prod.nodes.map(n => [n.kind, n.title])).toEqual([
      ['gate', 'Gate: required checks'],
      ['approval', 'Manual approval'],
      ['deploy', 'prod-eu'],
      ['deploy', 'prod-us'],
      ['test', 'Tests'],
    ]);
    expect(prod.nodes[0].details).toEqual(['ci/integration']);
    expect(prod.nodes[2].details).toEqual(['333333333333', 'eu-west-1']);
    expect(prod.entry).toEqual(['stage2_gate']);
    expect(prod.exit).toEqual(['stage2_tests']);
    const inner = graph.edges.filter(e => e.from.startsWith('stage2_'));
    expect(inner).toEqual([
      { from: 'stage2_gate', to: 'stage2_approval' },
      { from: 'stage2_approval', to: 'stage2_env1' },
      { from: 'stage2_approval', to: 'stage2_env2' },
      { from: 'stage2_env1', to: 'stage2_tests' },
      { from: 'stage2_env2', to: 'stage2_tests' },
    ]);
    // the environments of one stage are not chained to each other: they deploy in parallel
    expect(graph.edges).not.toContainEqual({ from: 'stage2_env1', to: 'stage2_env2' });
  });

  test('a stage of environments only: entry and exit are its environments', () => {
    expect(graph.clusters[0].entry).toEqual(['stage1_env1']);
    expect(graph.clusters[0].exit).toEqual(['stage1_env1']);
  });
});

describe('DOT', () => {
  const dot = toDot(deliveryGraph(planOf(exampleDoc())));

  test('one cluster per stage, named and ordered', () => {
    expect(dot).toMatch(/^digraph "myapp" \{\n {2}graph \[rankdir=LR, compound=true/);
    expect(dot).toContain('subgraph cluster_stage1 {\n    label=<<FONT POINT-SIZE="10">stage 1</FONT><BR/><B>development</B>>;');
    expect(dot).toContain('subgraph cluster_stage2 {\n    label=<<FONT POINT-SIZE="10">stage 2</FONT><BR/><B>production</B>>;');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
  });

  test('arrows between stages are clipped at the stage boxes (compound edges)', () => {
    expect(dot).toContain('update -> stage1_env1 [lhead=cluster_stage1];');
    expect(dot).toContain('stage1_env1 -> stage2_gate [ltail=cluster_stage1, lhead=cluster_stage2];');
    expect(dot).toContain('stage2_approval -> stage2_env1;');
    expect(dot).toContain('stage2_approval -> stage2_env2;');
  });

  test('gates are hexagons, approvals rounded, tests notes', () => {
    expect(dot).toMatch(/stage2_gate \[label=<<B>Gate: required checks<\/B><BR\/><FONT POINT-SIZE="10">ci\/integration<\/FONT>>, shape=hexagon/);
    expect(dot).toMatch(/stage2_tests \[label=<[^\n]*npm run smoke[^\n]*shape=note/);
  });

  test('text from ddk.json is escaped for HTML-like labels and quoted strings', () => {
    const doc = exampleDoc();
    doc.pipeline.stages[1].approval = { comment: 'Check <b>dev</b> & "prod"' };
    doc.pipeline.stages[1].tests = ['test -f a > b'];
    const text = toDot(deliveryGraph(planOf(doc)));
    // pipeline names cannot hold quotes, but the graph's own name is quoted all the same
    expect(toDot({ name: 'my"app\\', nodes: [], clusters: [], edges: [] })).toContain('digraph "my\\"app\\\\" {');
    expect(text).toContain('Check &lt;b&gt;dev&lt;/b&gt; &amp; &quot;prod&quot;');
    expect(text).toContain('test -f a &gt; b');
    expect(text).not.toContain('<b>dev');
  });
});

describe('Mermaid', () => {
  const mermaid = toMermaid(deliveryGraph(planOf(exampleDoc())));

  test('a left-to-right flowchart with one subgraph per stage and arrows between stages', () => {
    const lines = mermaid.trimEnd().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    expect(lines).toContain('  subgraph stage1["1. development"]');
    expect(lines).toContain('  subgraph stage2["2. production"]');
    expect(lines).toContain('  update --> stage1');
    expect(lines).toContain('  stage1 --> stage2');
    expect(lines).toContain('    stage2_gate{{"<b>Gate: required checks</b><br/>ci/integration"}}:::gate');
    expect(lines).toContain('    stage2_env2["<b>prod-us</b><br/>444444444444<br/>us-east-1"]:::deploy');
    // every subgraph is closed
    expect(lines.filter(l => l.trim().startsWith('subgraph')).length).toBe(lines.filter(l => l.trim() === 'end').length);
  });

  test('quotes, angle brackets and # in labels become Mermaid entity codes', () => {
    const doc = exampleDoc();
    doc.pipeline.stages[1].approval = { comment: 'say "yes" <now> #1' };
    const text = toMermaid(deliveryGraph(planOf(doc)));
    expect(text).toContain('say #quot;yes#quot; #lt;now#gt; #35;1');
  });
});

describe('Gitflow: one pipeline per stage, from its branch', () => {
  // GIVEN the example plan as the Gitflow strategy would carry it (a branch per stage)
  const base = planOf(exampleDoc());
  const plan = {
    name: base.name,
    source: base.source,
    synthCommands: base.synthCommands,
    strategy: 'codepipeline-gitflow',
    stages: base.stages.map((s, i) => ({ ...s, branch: i === 0 ? 'develop' : 'main' })),
  } as unknown as DeliveryPlan;
  const graph = deliveryGraph(plan);

  test('each stage has its own source (its branch) and build; stages are joined by a merge, not a flow', () => {
    expect(graph.nodes).toEqual([]);
    expect(graph.clusters.map(c => c.label)).toEqual(['development (branch develop)', 'production (branch main)']);
    expect(graph.clusters[0].nodes.slice(0, 2).map(n => [n.kind, n.details[0]])).toEqual([['source', 'myapp @ develop'], ['build', 'npm ci']]);
    expect(graph.clusters[1].entry).toEqual(['stage2_source']);
    expect(graph.edges).toContainEqual({ from: 'stage2_source', to: 'stage2_build' });
    expect(graph.edges).toContainEqual({ from: 'stage2_build', to: 'stage2_gate' });
    expect(graph.edges).toContainEqual({ from: 'stage1', to: 'stage2', label: 'merge to main' });
    expect(toDot(graph)).toContain('stage1_env1 -> stage2_source [ltail=cluster_stage1, lhead=cluster_stage2, style=dashed, label="merge to main"');
    expect(toMermaid(graph)).toContain('  stage1 -. "merge to main" .-> stage2');
  });
});

describe('graph output formats', () => {
  const SUPPORTED = 'supported extensions: .svg (svg); .mmd, .mermaid (mermaid); .dot, .gv (dot)';

  test('the format follows --format, else the extension of -o, else svg', () => {
    expect(graphFormat({})).toBe('svg');
    expect(graphFormat({ output: 'graph' })).toBe('svg');
    expect(graphFormat({ output: 'docs/g.SVG' })).toBe('svg');
    expect(graphFormat({ output: 'g.mermaid' })).toBe('mermaid');
    expect(graphFormat({ output: 'g.gv' })).toBe('dot');
    expect(graphFormat({ output: 'g.txt', format: 'dot' })).toBe('dot');
    expect(graphFormat({ output: '-', format: 'mermaid' })).toBe('mermaid');
  });

  test('-o g.png is refused (never SVG in a .png file), even with --format svg, listing the supported extensions', () => {
    for (const options of [{ output: 'g.png' }, { output: 'out/g.PNG', format: 'svg' }]) {
      expect(() => graphFormat(options)).toThrow(`-o ${options.output}: ddk-pipelines cannot write PNG pictures; ${SUPPORTED}. Fix: write SVG with -o ${options.output.slice(0, -4)}.svg`);
    }
    expect(() => graphFormat({ output: 'g.pdf' })).toThrow('cannot write PDF pictures');
    try {
      graphFormat({ output: 'g.jpg' });
    } catch (e: any) {
      expect(e.exitCode).toBe(2);
    }
    expect.assertions(4);
  });

  test('an extension of no format, without --format, is refused too', () => {
    expect(() => graphFormat({ output: 'g.txt' })).toThrow(`-o g.txt: the extension ".txt" names no graph format; ${SUPPORTED}. Fix: use one of these extensions, or pass --format svg|mermaid|dot`);
  });
});

describe('the review path (pipeline.review): pull request → review deployment → teardown, apart from the stages', () => {
  const withReview = (review: Record<string, unknown>, connection = false) => {
    const doc = exampleDoc();
    doc.pipeline.review = review;
    if (connection) doc.pipeline.source = { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123', repository: 'acme/app', branch: 'main' } };
    return planOf(doc);
  };
  const graph = deliveryGraph(withReview({ environment: 'dev', branches: ['main', 'release'], tests: ['npm run e2e'], ttlHours: 48 }));

  test('its own box: the pull request, the review deployment in the review environment, its tests, the teardown', () => {
    expect(graph.review).toEqual({
      id: 'review',
      label: 'review deployments, one per pull request',
      nodes: [
        { id: 'review_pr', kind: 'source', title: 'Pull request', details: ['into main, release', 'myapp, CodeCommit'] },
        { id: 'review_deploy', kind: 'deploy', title: 'Review deployment: dev', details: ['222222222222', 'eu-west-1', 'myapp-review-pr<number>-<stack>'] },
        { id: 'review_tests', kind: 'test', title: 'Review tests', details: ['npm run e2e'] },
        { id: 'review_teardown', kind: 'teardown', title: 'Teardown', details: ['delete the review stacks', 'or by hand: reviews destroy'] },
      ],
    });
    // the stages and the delivery path are those without a review section
    const plain = deliveryGraph(planOf(exampleDoc()));
    expect(graph.clusters).toEqual(plain.clusters);
    expect(graph.nodes).toEqual(plain.nodes);
  });

  test('a path of its own: deployed on open/update, torn down (dashed) when closed, merged or idle; no arrow joins it to the stages', () => {
    const reviewEdges = graph.edges.filter(e => e.from.startsWith('review') || e.to.startsWith('review'));
    expect(reviewEdges).toEqual([
      { from: 'review_pr', to: 'review_deploy' },
      { from: 'review_deploy', to: 'review_tests' },
      { from: 'review_tests', to: 'review_teardown', label: 'closed or merged, or 48 h without an update' },
    ]);
    expect(reviewEdges.every(e => e.from.startsWith('review_') && e.to.startsWith('review_'))).toBe(true);
  });

  test('without tests the deployment leads to the teardown; ttlHours 0 names no TTL; a connection source names the fork policy', () => {
    const g = deliveryGraph(withReview({ environment: 'dev', ttlHours: 0 }, true));
    expect(g.review!.nodes.map(n => n.id)).toEqual(['review_pr', 'review_deploy', 'review_teardown']);
    expect(g.review!.nodes[0].details).toEqual(['into main', 'acme/app, CodeConnections', 'forks refused']);
    expect(g.review!.nodes[1].details[2]).toBe('myapp-review-b-<branch>-<hash>-<stack>');
    expect(g.edges).toContainEqual({ from: 'review_deploy', to: 'review_teardown', label: 'closed or merged' });
    expect(deliveryGraph(withReview({ environment: 'dev', allowForks: true }, true)).review!.nodes[0].details[2]).toBe('forks deploy too');
  });

  test('DOT: a filled purple box of its own, the teardown dashed, arrows inside it only', () => {
    const dot = toDot(graph);
    expect(dot).toContain('  subgraph cluster_review {\n    label=<<FONT POINT-SIZE="10">pull requests</FONT><BR/><B>review deployments, one per pull request</B>>;\n'
      + '    style="rounded,filled"; fillcolor="#faf5fc"; color="#8e24aa"; fontname="Helvetica";');
    expect(dot).toMatch(/review_teardown \[label=<<B>Teardown<\/B>[^\n]*style="rounded,filled,dashed", fillcolor="#fce4ec"/);
    expect(dot).toContain('review_deploy [label=<<B>Review deployment: dev</B><BR/><FONT POINT-SIZE="10">222222222222</FONT><BR/><FONT POINT-SIZE="10">eu-west-1</FONT>'
      + '<BR/><FONT POINT-SIZE="10">myapp-review-pr&lt;number&gt;-&lt;stack&gt;</FONT>>');
    expect(dot).toContain('  review_pr -> review_deploy;');
    expect(dot).toContain('  review_tests -> review_teardown [style=dashed, label="closed or merged, or 48 h without an update"');
    expect(dot.match(/-> review_|review_\w+ ->/g)).toHaveLength(3);
  });

  test('Mermaid: a subgraph of its own, styled apart; the teardown a flag', () => {
    const lines = toMermaid(graph).trimEnd().split('\n');
    const start = lines.indexOf('  subgraph review["review deployments, one per pull request"]');
    expect(start).toBeGreaterThan(lines.indexOf('  subgraph stage2["2. production"]'));
    expect(lines.slice(start + 1, start + 7)).toEqual([
      '    direction LR',
      '    review_pr[("<b>Pull request</b><br/>into main, release<br/>myapp, CodeCommit")]:::source',
      '    review_deploy["<b>Review deployment: dev</b><br/>222222222222<br/>eu-west-1<br/>myapp-review-pr#lt;number#gt;-#lt;stack#gt;"]:::deploy',
      '    review_tests[["<b>Review tests</b><br/>npm run e2e"]]:::test',
      '    review_teardown>"<b>Teardown</b><br/>delete the review stacks<br/>or by hand: reviews destroy"]:::teardown',
      '  end',
    ]);
    expect(lines).toContain('  review_tests -. "closed or merged, or 48 h without an update" .-> review_teardown');
    expect(lines.slice(-2)).toEqual(['  classDef teardown fill:#fce4ec,stroke:#ad1457', '  style review fill:#faf5fc,stroke:#8e24aa']);
  });

  test('without pipeline.review: no review path in the graph, the DOT or the Mermaid', () => {
    const plain = deliveryGraph(planOf(exampleDoc()));
    expect(plain.review).toBeUndefined();
    expect(toDot(plain)).not.toContain('review');
    expect(toMermaid(plain)).not.toMatch(/review|teardown/);
  });
});

describe('release brackets (pipeline.services): per-service paths joining into the release, then the bracket stages', () => {
  const graph = deliveryGraph(planOf(fooDocument()));

  test('each service: its own box (its pipeline) with source → build → its per-service stages → candidate', () => {
    expect(graph.services!.map(p => [p.id, p.label, p.pipeline])).toEqual([
      ['service1', 'foobar-frontend', 'foo-foobar-frontend'],
      ['service2', 'foobar-backend', 'foo-foobar-backend'],
    ]);
    const [frontend, backend] = graph.services!;
    expect(frontend.nodes).toEqual([
      { id: 'service1_source', kind: 'source', title: 'Source', details: ['foobar-frontend @ main', 'CodeCommit'] },
      { id: 'service1_build', kind: 'build', title: 'Build', details: ['npm ci', 'npm test', 'npx cdk synth'] },
      { id: 'service1_candidate', kind: 'candidate', title: 'Candidate', details: ['a revision that passed dev', 'for the next release'] },
    ]);
    expect(backend.nodes.slice(0, 2).map(n => n.details)).toEqual([['acme/foobar-backend @ trunk', 'CodeConnections'], ['npm ci', 'npx cdk synth']]);
    expect(frontend.clusters).toEqual([{
      id: 'service1_stage1',
      label: 'dev',
      order: 1,
      nodes: [{ id: 'service1_stage1_env1', kind: 'deploy', title: 'dev', details: ['222222222222', 'eu-west-1'] }],
      entry: ['service1_stage1_env1'],
      exit: ['service1_stage1_env1'],
    }]);
    for (const k of [1, 2]) {
      expect(graph.edges).toEqual(expect.arrayContaining([
        { from: `service${k}_source`, to: `service${k}_build` },
        { from: `service${k}_build`, to: `service${k}_stage1` },
        { from: `service${k}_stage1`, to: `service${k}_candidate` },
        { from: `service${k}_candidate`, to: 'release' },
      ]));
    }
  });

  test('the release node joins the services; then the bracket stages, each deploying every service in parallel, its tests once', () => {
    expect(graph.nodes).toEqual([
      { id: 'release', kind: 'release', title: 'Release', details: ['release start: one revision per service', 'pipeline foo-release'] },
    ]);
    expect(graph.clusters.map(c => [c.id, c.label, c.order])).toEqual([['stage2', 'hardening', 2], ['stage3', 'production', 3]]);
    const hardening = graph.clusters[0];
    expect(hardening.nodes.map(n => [n.id, n.kind, n.title, n.details])).toEqual([
      ['stage2_gate', 'gate', 'Gate: required checks', ['perf/e2e', 'on the release id']],
      ['stage2_service1_env1', 'deploy', 'foobar-frontend', ['hardening', '333333333333', 'eu-west-1']],
      ['stage2_service2_env1', 'deploy', 'foobar-backend', ['hardening', '333333333333', 'eu-west-1']],
      ['stage2_tests', 'test', 'Tests, once per release', ['npm run perf']],
    ]);
    expect(graph.edges.filter(e => e.from.startsWith('stage2_'))).toEqual([
      { from: 'stage2_gate', to: 'stage2_service1_env1' },
      { from: 'stage2_gate', to: 'stage2_service2_env1' },
      { from: 'stage2_service1_env1', to: 'stage2_tests' },
      { from: 'stage2_service2_env1', to: 'stage2_tests' },
    ]);
    expect(graph.edges).toContainEqual({ from: 'release', to: 'stage2' });
    expect(graph.edges).toContainEqual({ from: 'stage2', to: 'stage3' });
    // nothing leads into the bracket stages but the release: no service reaches them on its own
    expect(graph.edges.filter(e => e.to === 'stage2' || e.to.startsWith('stage2_')).map(e => e.from)).toEqual(['stage2_gate', 'stage2_gate', 'stage2_service1_env1', 'stage2_service2_env1', 'release']);
    expect(graph.edges.filter(e => e.to === 'release').map(e => e.from)).toEqual(['service1_candidate', 'service2_candidate']);
  });

  test('DOT: a box per service pipeline holding its stage boxes; compound arrows into and out of them; the release node in bold', () => {
    const dot = toDot(graph);
    expect(dot).toContain('  subgraph cluster_service1 {\n    label=<<FONT POINT-SIZE="10">pipeline foo-foobar-frontend</FONT><BR/><B>foobar-frontend</B>>;\n'
      + '    style="rounded"; color="#5e35b1"; fontname="Helvetica";');
    expect(dot).toContain('    subgraph cluster_service1_stage1 {\n      label=<<FONT POINT-SIZE="10">stage 1</FONT><BR/><B>dev</B>>;');
    expect(dot).toContain('  service1_build -> service1_stage1_env1 [lhead=cluster_service1_stage1];');
    expect(dot).toContain('  service1_stage1_env1 -> service1_candidate [ltail=cluster_service1_stage1];');
    expect(dot).toContain('  service2_candidate -> release;');
    expect(dot).toContain('  release -> stage2_gate [lhead=cluster_stage2];');
    expect(dot).toContain('  stage2_tests -> stage3_service1_env1 [ltail=cluster_stage2, lhead=cluster_stage3];');
    expect(dot).toMatch(/ {2}release \[label=<<B>Release<\/B><BR\/><FONT POINT-SIZE="10">release start: one revision per service<\/FONT>[^\n]*style="rounded,filled,bold"[^\n]*penwidth=2\];/);
    expect(dot).toMatch(/service1_candidate \[label=<<B>Candidate<\/B>[^\n]*style="rounded,filled,dashed", fillcolor="#ede7f6"/);
    // every box is closed
    expect(dot.match(/subgraph cluster_/g)).toHaveLength(6);
    expect(dot.match(/^ *\}$/gm)).toHaveLength(7);
  });

  test('Mermaid: a subgraph per service pipeline with its stage subgraphs; arrows between boxes; the release a trapezoid', () => {
    const lines = toMermaid(graph).trimEnd().split('\n');
    const start = lines.indexOf('  subgraph service1["foobar-frontend (pipeline foo-foobar-frontend)"]');
    expect(lines.slice(start, start + 11)).toEqual([
      '  subgraph service1["foobar-frontend (pipeline foo-foobar-frontend)"]',
      '    direction LR',
      '    service1_source[("<b>Source</b><br/>foobar-frontend @ main<br/>CodeCommit")]:::source',
      '    service1_build("<b>Build</b><br/>npm ci<br/>npm test<br/>npx cdk synth"):::build',
      '    service1_candidate[/"<b>Candidate</b><br/>a revision that passed dev<br/>for the next release"/]:::candidate',
      '    subgraph service1_stage1["1. dev"]',
      '      direction LR',
      '      service1_stage1_env1["<b>dev</b><br/>222222222222<br/>eu-west-1"]:::deploy',
      '    end',
      '  end',
      '  subgraph service2["foobar-backend (pipeline foo-foobar-backend)"]',
    ]);
    expect(lines[1]).toBe('  release[/"<b>Release</b><br/>release start: one revision per service<br/>pipeline foo-release"\\]:::release');
    for (const edge of ['service1_build --> service1_stage1', 'service1_stage1 --> service1_candidate', 'service2_candidate --> release', 'release --> stage2', 'stage2 --> stage3']) {
      expect(lines).toContain(`  ${edge}`);
    }
    expect(lines).toContain('    stage2_service2_env1["<b>foobar-backend</b><br/>hardening<br/>333333333333<br/>eu-west-1"]:::deploy');
    expect(lines.slice(-5)).toEqual([
      '  classDef test fill:#e8f5e9,stroke:#2e7d32',
      '  classDef candidate fill:#ede7f6,stroke:#5e35b1,stroke-dasharray:4',
      '  classDef release fill:#d1c4e9,stroke:#4527a0,stroke-width:2px',
      '  style service1 fill:#fbfaff,stroke:#5e35b1',
      '  style service2 fill:#fbfaff,stroke:#5e35b1',
    ]);
    expect(lines.filter(l => l.trim().startsWith('subgraph')).length).toBe(lines.filter(l => l.trim() === 'end').length);
  });

  test('without per-service stages the build leads to the candidate', () => {
    const doc = fooDocument();
    doc.pipeline.stages = [{ name: 'hardening', environments: ['dev', 'hardening'], bracket: true }, { name: 'production', environments: ['production'] }];
    const g = deliveryGraph(planOf(doc));
    expect(g.services![0].clusters).toEqual([]);
    expect(g.services![0].nodes[2].details).toEqual(['a revision that built', 'for the next release']);
    expect(g.edges).toContainEqual({ from: 'service1_build', to: 'service1_candidate' });
    expect(g.clusters[0].nodes.filter(n => n.kind === 'deploy').map(n => `${n.title}@${n.details[0]}`))
      .toEqual(['foobar-frontend@dev', 'foobar-frontend@hardening', 'foobar-backend@dev', 'foobar-backend@hardening']);
  });

  test('a plan without services: no service paths, no release node, the same DOT and Mermaid', () => {
    const plain = deliveryGraph(planOf(exampleDoc()));
    expect(plain.services).toBeUndefined();
    expect(toMermaid(plain)).not.toMatch(/candidate|release start|:::release|classDef release|service/);
    expect(toDot(plain)).not.toMatch(/candidate|release start|service/);
  });
});
