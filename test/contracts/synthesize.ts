import { mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, CloudFormationValidatePlugin, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DdkConfig, DeliveryPipelineStack, DeliveryPlan, SampleApplication } from '../../lib';
import { CDK_CONTEXT } from '../helpers';

/** Where a synthesized template is deployed and what it holds. */
export type StackKind = 'cicd' | 'support' | 'application';

/** One synthesized CloudFormation template with the environment it is deployed to. */
export interface StackTemplate {
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** The construct path of the stack (unique in the assembly, names it in findings). */
  readonly displayName: string;
  /** `cicd` (the pipeline stack), `support` (CodePipeline's cross-region stacks), `application`. */
  readonly kind: StackKind;
  readonly account: string;
  readonly region: string;
  /** The parsed template. */
  readonly template: any;
  /** Bytes of the template file as written (what CloudFormation receives). */
  readonly bytes: number;
  /** Path of the template file (valid until the output is disposed). */
  readonly templateFile: string;
}

/** How much of aws-cdk-lib's CloudFormation validation runs during synthesis. */
export type CfnValidation =
  /** Schema validation and aws-cdk-lib's default rules (what `cdk synth` runs with cdk.json). */
  | 'full'
  /** Schema validation only (the CloudFormation registry schemas: types, enums, lengths, patterns). */
  | 'schema'
  /** None. */
  | 'off';

/** Options of `synthesizeDdk`. */
export interface SynthesizeOptions {
  /** @default 'full' */
  readonly validation?: CfnValidation;
  /** File name used in messages. @default 'ddk.json' */
  readonly file?: string;
}

/** The result of synthesizing one ddk.json through the library's public path. */
export interface SynthOutput {
  readonly doc: any;
  readonly plan: DeliveryPlan;
  /** Every template of the assembly (CICD, support and application stacks). */
  readonly stacks: StackTemplate[];
  /** The assembly directory (removed by `dispose`). */
  readonly outdir: string;
  /** Milliseconds spent constructing and synthesizing. */
  readonly synthMs: number;
  /** Removes the assembly directory. */
  dispose(): void;
}

/**
 * Synthesizes a ddk.json document as `bin/build-app.ts` does: `DdkConfig` → `DeliveryPlan` →
 * `DeliveryPipelineStack` with the sample application, cdk-nag's AwsSolutions pack registered and
 * cdk.json's context, into a temporary cloud assembly; returns every template in it.
 *
 * Throws what the library throws (an invalid file, a plan beyond a limit, a cdk-nag finding).
 */
export function synthesizeDdk(doc: any, options: SynthesizeOptions = {}): SynthOutput {
  const validation = options.validation ?? 'full';
  const started = Date.now();
  const outdir = mkdtempSync(join(tmpdir(), 'ddk-contracts-'));
  try {
    const app = new App({
      outdir,
      context: CDK_CONTEXT,
      builtinCloudFormationValidation: validation !== 'off',
    });
    // A plugin registered on the app replaces aws-cdk-lib's default instance: schema checks without the rules.
    if (validation === 'schema') Validations.of(app).addPlugins(schemaOnlyPlugin());
    const config = DdkConfig.fromObject(doc, options.file ?? 'ddk.json');
    const plan = DeliveryPlan.fromConfig(config);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
    const assembly = app.synth();
    const stacks = templatesOf(assembly, plan.cicdStackName);
    return {
      doc,
      plan,
      stacks,
      outdir,
      synthMs: Date.now() - started,
      dispose: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(outdir, { recursive: true, force: true });
    throw e;
  }
}

let schemaOnly: CloudFormationValidatePlugin | undefined;
/** One schema-only validation plugin per process: its engine costs seconds to set up. */
function schemaOnlyPlugin(): CloudFormationValidatePlugin {
  schemaOnly ??= new CloudFormationValidatePlugin({ includeDefaultRules: false });
  return schemaOnly;
}

/** Every stack of an assembly and its nested assemblies (CDK stages). */
export function templatesOf(assembly: CloudAssembly, cicdStackName: string): StackTemplate[] {
  const out: StackTemplate[] = [];
  const visit = (asm: CloudAssembly, nested: boolean) => {
    for (const s of asm.stacks) {
      const text = readFileSync(s.templateFullPath, 'utf-8');
      out.push({
        stackName: s.stackName,
        displayName: s.hierarchicalId,
        kind: nested ? 'application' : s.stackName === cicdStackName ? 'cicd' : 'support',
        account: s.environment.account,
        region: s.environment.region,
        template: JSON.parse(text),
        bytes: statSync(s.templateFullPath).size,
        templateFile: s.templateFullPath,
      });
    }
    for (const a of asm.nestedAssemblies) visit(a.nestedAssembly, true);
  };
  visit(assembly, false);
  return out;
}

/**
 * Whether an error thrown while synthesizing is a refusal the user can act on: it names the file
 * and says how to fix it (the library's limit checks and config errors), as opposed to a crash or
 * an unacknowledged cdk-nag finding.
 */
export function isClearRefusal(e: unknown, file = 'ddk.json'): boolean {
  const message = e instanceof Error ? e.message : String(e);
  return message.includes(file) && /\bFix\b/i.test(message) && !/AwsSolutions-/.test(message);
}
