/**
 * Where the synthesis time of a large CDK Pipelines pipeline goes (a script, not a test).
 *
 *   npx cdk synth --quiet -c ddkConfig=<file> -o <out>       # e.g. .bench/configs/ddk-200-one-wave.json
 *   npx ts-node --transpile-only test/bench/validator-cost.ts <out>/<pipeline stack>.template.json
 *
 * Runs aws-cdk-lib's CloudFormation validation engine (the one `validateAgainstDefaultRules`
 * turns on) on variants of the pipeline template and prints the time of each (after one untimed
 * call: the engine's first call pays a one-off set-up). Sections:
 * - the whole template, the template without its AWS::CodePipeline::Pipeline, the pipeline alone;
 * - scaling: the pipeline's deployment actions regrouped into 50-action stages, first 100, 200, then
 *   400 of them, as written and reduced to `{Name, ActionTypeId}` (the cost grows with the square
 *   of the number of actions, whatever their content);
 * - which action properties cost (each left out of all actions in turn), and schema validation
 *   without any rule.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationValidatePlugin } from 'aws-cdk-lib';

// The engine is a dependency of aws-cdk-lib, not of this project.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a dependency of aws-cdk-lib, resolved from there
const cv = require(require.resolve('@aws/cloudformation-validate', { paths: [path.dirname(require.resolve('aws-cdk-lib'))] }));

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npx ts-node --transpile-only test/bench/validator-cost.ts <pipeline template.json>\n');
  process.exit(2);
}
const template = JSON.parse(fs.readFileSync(file, 'utf-8'));
const types = [...new Set(Object.values<any>(template.Resources).map(r => r.Type))];
const pipelineId = Object.keys(template.Resources).find(k => template.Resources[k].Type === 'AWS::CodePipeline::Pipeline')!;
const engineOf = (plugin: CloudFormationValidatePlugin) => (plugin as any).initializeEngine(new Set(types));
const rules = engineOf(new CloudFormationValidatePlugin());
const schemaOnly = engineOf(new CloudFormationValidatePlugin({ includeDefaultRules: false }));

function validate(doc: any, engine = rules): { ms: number; bytes: number } {
  const text = JSON.stringify(doc);
  const started = process.hrtime.bigint();
  engine.validateTemplate(new cv.TemplateContent(text, 'template.json'), {
    detailLevel: 'STANDARD', pseudoParameterOverrides: { accountId: '100000000000', region: 'eu-west-1' }, exclude: { ids: [] }, severityLevel: 'WARN',
  });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, bytes: text.length };
}

function time(label: string, doc: any, engine = rules): void {
  const { ms, bytes } = validate(doc, engine);
  process.stdout.write(`${label.padEnd(64)} ${ms.toFixed(0).padStart(6)} ms  ${(bytes / 1024).toFixed(0).padStart(5)} KB\n`);
}

const clone = () => JSON.parse(JSON.stringify(template));
/** A template holding only the pipeline, its stages changed by `stages`. */
const pipelineOnly = (stages?: (s: any[]) => any[]) => {
  const t = clone();
  const p = t.Resources[pipelineId];
  if (stages) p.Properties.Stages = stages(p.Properties.Stages);
  t.Resources = { [pipelineId]: p };
  return t;
};
const allStages: any[] = template.Resources[pipelineId].Properties.Stages;
const fixed = allStages.filter(s => s.Actions.length === 1 && ['Source', 'Build', 'UpdatePipeline'].includes(s.Name));
const deployActions: any[] = allStages.filter(s => !fixed.includes(s)).flatMap(s => s.Actions);
/** The fixed stages, then `n` deployment actions (mapped by `f`) in stages of 50. */
const regrouped = (n: number, f: (a: any) => any = a => a) => (st: any[]) => {
  const actions = deployActions.slice(0, n).map(f);
  const out = [...st.filter(s => fixed.some(x => x.Name === s.Name))];
  for (let i = 0; i < actions.length; i += 50) out.push({ Name: `deploy-${i / 50 + 1}`, Actions: actions.slice(i, i + 50) });
  return out;
};

// untimed: the engine's first call pays a one-off set-up
validate(pipelineOnly(() => fixed));

time('whole template', template);
const without = clone();
delete without.Resources[pipelineId];
time('without the AWS::CodePipeline::Pipeline', without);
time(`the pipeline alone (${deployActions.length} deployment actions)`, pipelineOnly());

process.stdout.write('\nscaling with the number of actions (stages of 50):\n');
for (const n of [100, 200, 400].filter(k => k <= deployActions.length)) {
  time(`  ${n} actions as written`, pipelineOnly(regrouped(n)));
  time(`  ${n} actions reduced to {Name, ActionTypeId}`, pipelineOnly(regrouped(n, a => ({ Name: a.Name, ActionTypeId: a.ActionTypeId }))));
}

const n = Math.min(200, deployActions.length);
process.stdout.write(`\nwhich action properties cost (${n} actions, each property left out of all of them):\n`);
time('  as written', pipelineOnly(regrouped(n)));
for (const prop of ['ActionTypeId', 'Configuration', 'InputArtifacts', 'RoleArn', 'Region', 'RunOrder']) {
  time(`  without ${prop}`, pipelineOnly(regrouped(n, a => { const { [prop]: _, ...rest } = a; return rest; })));
}
time('  as written, schema validation only (no rules)', pipelineOnly(regrouped(n)), schemaOnly);
