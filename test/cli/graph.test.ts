import { exampleDoc } from './helpers';
import { graphFormat } from '../../lib/cli/commands';
import { deliveryGraph, toDot, toMermaid } from '../../lib/cli/graph';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

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
