import { LIMITS, PATTERNS } from '../../../lib/status-checks/shared';
import { asArray, resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * The status-check gates wait for reports that arrive through the status-check API. A report is
 * validated twice on the way: by API Gateway against the method's model when the template
 * declares one ("Request validation in API Gateway", JSON Schema draft 4), and by the API function
 * with the patterns and limits of lib/status-checks/shared.ts (the module its request validation
 * imports). A gate that requires a context, a pipeline or a stage either of them rejects can
 * never pass. This contract reads the requirements from the template: the gate
 * actions' UserParameters and the functions' environment (a JSON value listing `stages` with their
 * `requiredChecks`), and the CheckReport model's schema.
 */

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** The string constraints a validator applies to one field of a report. */
export interface StringSchema {
  readonly pattern?: string;
  readonly maxLength?: number;
  readonly minLength?: number;
}

function accepts(schema: StringSchema | undefined, value: string): string | undefined {
  if (!schema) return undefined;
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `is ${value.length} characters, more than the ${schema.maxLength} allowed`;
  if (schema.minLength !== undefined && value.length < schema.minLength) return `is shorter than the ${schema.minLength} required`;
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `does not match ${schema.pattern}`;
  return undefined;
}

/** What the API function accepts in a report (lib/status-checks/shared.ts). */
export const HANDLER_REPORT_SCHEMA: Record<string, StringSchema> = {
  pipeline: { pattern: PATTERNS.name },
  stage: { pattern: PATTERNS.name },
  context: { pattern: PATTERNS.context, maxLength: LIMITS.context },
};

/** Every gate's pipeline, stage and required contexts can be reported through the API. */
export function checkStatusCheckGates(stack: Input, handler: Record<string, StringSchema> = HANDLER_REPORT_SCHEMA): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  const model = resourcesOf(stack.template, 'AWS::ApiGateway::Model').find(m => m.properties.Name === 'CheckReport');
  const modelProps = model ? resolver.resolve(model.properties.Schema)?.properties ?? {} : {};
  const hasApi = resourcesOf(stack.template, 'AWS::ApiGateway::RestApi').length > 0;
  const check = (where: string, field: string, value: unknown) => {
    if (typeof value !== 'string' || !hasApi) return;
    for (const [by, schema] of [['the API\'s request model', modelProps[field]], ['the API function\'s validation', handler[field]]] as const) {
      const problem = accepts(schema, value);
      if (problem) sink.add('status-checks.reportable', where, `${field} ${show(value, 60)} ${problem} (${by}): no report for it is accepted, so the gate can never pass`);
    }
  };
  const parse = (text: string | undefined): any => {
    try {
      return text === undefined ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) {
    asArray<any>(p.properties.Stages).forEach((stage, si) => {
      asArray<any>(stage.Actions).forEach((a, ai) => {
        if (a.ActionTypeId?.Provider !== 'Lambda') return;
        const params = parse(resolver.string(a.Configuration?.UserParameters));
        if (!params || typeof params !== 'object') return;
        const where = `${p.logicalId}.Stages[${si}].Actions[${ai}].Configuration.UserParameters`;
        check(where, 'pipeline', params.pipeline);
        check(where, 'stage', params.stage);
        for (const c of asArray<any>(params.requiredChecks)) check(where, 'context', c);
      });
    });
  }
  for (const f of resourcesOf(stack.template, 'AWS::Lambda::Function')) {
    for (const [name, value] of Object.entries<any>(f.properties.Environment?.Variables ?? {})) {
      const settings = parse(resolver.string(value));
      if (!settings || !Array.isArray(settings.stages)) continue;
      const where = `${f.logicalId}.Environment.Variables.${name}`;
      check(where, 'pipeline', settings.pipeline);
      for (const stage of settings.stages) {
        check(where, 'stage', stage?.name);
        for (const c of asArray<any>(stage?.requiredChecks)) check(where, 'context', c);
      }
    }
  }
  return sink.findings;
}
