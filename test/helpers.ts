import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DdkConfig, DeliveryPipelineStack, DeliveryPipelineStackProps, DeliveryPlan, IApplicationFactory, SampleApplication } from '../lib';
import type { StackTemplate } from './contracts/synthesize';

export const ROOT = join(__dirname, '..');

/** The context of cdk.json (feature flags, validation settings), so tests synthesize like `cdk synth`. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf-8')).context;

/** The seed's data.all ddk.json, exactly. */
export const SEED_DDK_JSON = {
  environments: {
    cicd: { account: '111111111111', region: 'eu-west-1' },
    dev: {
      account: '222222222222',
      region: 'eu-west-1',
      resources: { 'ddk-bucket': { versioned: false, removal_policy: 'destroy' } },
    },
    prod: {
      account: '333333333333',
      region: 'eu-west-1',
      resources: { 'ddk-bucket': { versioned: true, removal_policy: 'retain' } },
    },
  },
};

/** The repository's example ddk.json. */
export function exampleDdkJson(): any {
  return JSON.parse(readFileSync(join(ROOT, 'ddk.json'), 'utf-8'));
}

/** Renders a ddk.json document into a CICD stack, as the app does (without cdk-nag). */
export function render(doc: object, application: IApplicationFactory = new SampleApplication(), props: Partial<DeliveryPipelineStackProps> = {}) {
  const app = new App({ context: CDK_CONTEXT });
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
  const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application, ...props });
  return { app, plan, stack, template: Template.fromStack(stack) };
}

/** The single CodePipeline of a template, as JSON. */
export function pipelineOf(template: Template): any {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelines).toHaveLength(1);
  return (pipelines[0] as any).Properties;
}

/** Stage names in order. */
export function stageNames(template: Template): string[] {
  return pipelineOf(template).Stages.map((s: any) => s.Name);
}

/** The actions of one stage. */
export function actionsOf(template: Template, stage: string): any[] {
  const s = pipelineOf(template).Stages.find((x: any) => x.Name === stage);
  if (!s) throw new Error(`no stage ${stage} in ${stageNames(template).join(', ')}`);
  return s.Actions;
}

/** `n` target environments named env1..envN in distinct accounts. */
export function environments(n: number, regions = ['eu-west-1']): Record<string, { account: string; region: string }> {
  const out: Record<string, { account: string; region: string }> = { cicd: { account: '111111111111', region: 'eu-west-1' } };
  for (let i = 1; i <= n; i++) out[`env${i}`] = { account: String(200000000000 + i), region: regions[i % regions.length] };
  return out;
}

/** A CICD stack synthesized as `cdk synth` does it, with its template in every form the tests read. */
export interface SynthesizedWithNag {
  readonly stack: DeliveryPipelineStack;
  readonly plan: DeliveryPlan;
  readonly template: Template;
  readonly json: any;
  /** The template as the contract layer reads it. */
  readonly output: StackTemplate;
}

/**
 * Renders a ddk.json document as `cdk synth` does: cdk.json's context (CloudFormation validation)
 * and cdk-nag's AwsSolutions pack, whose findings are errors (synth throws on any).
 */
export function synthWithNag(doc: object): SynthesizedWithNag {
  const outdir = mkdtempSync(join(tmpdir(), 'ddk-synth-'));
  try {
    const app = new App({ context: CDK_CONTEXT, outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
    const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
    const assembly = app.synth();
    const json = JSON.parse(readFileSync(join(outdir, assembly.getStackArtifact(stack.artifactId).templateFile), 'utf-8'));
    const output: StackTemplate = { stackName: stack.stackName, displayName: stack.node.path, kind: 'cicd', account: plan.cicd.account, region: plan.cicd.region, template: json, bytes: 0, templateFile: '' };
    return { stack, plan, template: Template.fromJSON(json), json, output };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
