/**
 * Where the synthesis time of a large CDK Pipelines pipeline goes (a script, not a test).
 *
 *   npx cdk synth --quiet -c ddkConfig=<file> -o <out>       # e.g. .bench/configs/ddk-200-one-wave.json
 *   npx ts-node --transpile-only test/bench/validator-cost.ts <out>/<pipeline stack>.template.json
 *
 * Runs aws-cdk-lib's CloudFormation validation engine (the one `validateAgainstDefaultRules`
 * turns on) on variants of the pipeline template and prints the time of each: the whole template,
 * the template without the AWS::CodePipeline::Pipeline, the pipeline alone, the pipeline with its
 * first deployment stage repeated 1..5 times, and schema validation without any rule.
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

function time(label: string, doc: any, engine = rules): void {
  const text = JSON.stringify(doc);
  const started = Date.now();
  engine.validateTemplate(new cv.TemplateContent(text, 'template.json'), {
    detailLevel: 'STANDARD', pseudoParameterOverrides: { accountId: '100000000000', region: 'eu-west-1' }, exclude: { ids: [] }, severityLevel: 'WARN',
  });
  process.stdout.write(`${label.padEnd(58)} ${String(Date.now() - started).padStart(6)} ms  ${(text.length / 1024).toFixed(0).padStart(5)} KB\n`);
}

const clone = () => JSON.parse(JSON.stringify(template));
const pipelineOnly = (stages?: (s: any[]) => any[]) => {
  const t = clone();
  const p = t.Resources[pipelineId];
  if (stages) p.Properties.Stages = stages(p.Properties.Stages);
  t.Resources = { [pipelineId]: p };
  return t;
};
time('whole template', template);
const without = clone();
delete without.Resources[pipelineId];
time('without the AWS::CodePipeline::Pipeline', without);
time('the pipeline alone', pipelineOnly());
const firstDeploy = template.Resources[pipelineId].Properties.Stages.findIndex((s: any) => s.Actions.length > 1);
for (const n of [1, 2, 3, 4, 5]) {
  const repeated = (st: any[]) => [...st.slice(0, 3), ...Array.from({ length: n }, (_, i) => ({ ...st[firstDeploy], Name: `${st[firstDeploy].Name}-${i}` }))];
  time(`pipeline: 3 fixed stages + ${n} × a ${template.Resources[pipelineId].Properties.Stages[firstDeploy].Actions.length}-action stage`, pipelineOnly(repeated));
  if (n === 5) time('  … the same, schema validation only (no rules)', pipelineOnly(repeated), schemaOnly);
}
