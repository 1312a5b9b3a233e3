import { asArray, resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * The status-check gates wait for reports that arrive through the status-check API. API Gateway
 * validates each request body against the method's model ("Request validation in API Gateway",
 * JSON Schema draft 4): a gate that requires a context, a pipeline or a stage the CheckReport
 * model rejects can never pass. This contract reads both sides from the template: the gate
 * actions' UserParameters and the functions' environment (a JSON value listing `stages` with their
 * `requiredChecks`), and the CheckReport model's schema.
 */

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

interface StringSchema {
  readonly pattern?: string;
  readonly maxLength?: number;
  readonly minLength?: number;
}

function accepts(schema: StringSchema | undefined, value: string): string | undefined {
  if (!schema) return undefined;
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `is ${value.length} characters, more than the model's maxLength ${schema.maxLength}`;
  if (schema.minLength !== undefined && value.length < schema.minLength) return `is shorter than the model's minLength ${schema.minLength}`;
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `does not match the model's pattern ${schema.pattern}`;
  return undefined;
}

/** Every gate's pipeline, stage and required contexts can be reported through the API's CheckReport model. */
export function checkStatusCheckGates(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  const model = resourcesOf(stack.template, 'AWS::ApiGateway::Model').find(m => m.properties.Name === 'CheckReport');
  if (!model) return sink.findings;
  const schema = resolver.resolve(model.properties.Schema);
  const props = schema?.properties ?? {};
  const check = (where: string, field: string, value: unknown) => {
    if (typeof value !== 'string') return;
    const problem = accepts(props[field], value);
    if (problem) sink.add('status-checks.reportable', where, `${field} ${show(value, 60)} ${problem}: no report for it passes the API's request validation, so the gate can never pass`);
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
