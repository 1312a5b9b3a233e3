import { resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * API Gateway's documented contract for gateway responses ("Gateway responses for REST APIs in API
 * Gateway", "x-amazon-apigateway-gateway-responses.responseTemplates"): the body template is not
 * processed by VTL; it supports only simple variable substitution of `$context.…`,
 * `$stageVariables.…` and `$method.request.{header,querystring,path}.…`. Anything else (`$util`,
 * `$input`, directives, method calls) reaches the client as written. An `application/json`
 * template must produce JSON once realistic values are substituted.
 */

/** A realistic value API Gateway substitutes for each `$context` variable the templates may use. */
export const REALISTIC_CONTEXT: Record<string, string> = {
  'context.error.message': 'Invalid request body',
  // API Gateway's messageString is the message as a quoted JSON string
  'context.error.messageString': '"Invalid request body"',
  'context.error.responseType': 'BAD_REQUEST_BODY',
  // what the request validator reports: it holds double quotes
  'context.error.validationErrorString': '[object has missing required properties (["context","state"]), instance type (integer) does not match any allowed primitive type (allowed: ["string"])]',
  'context.requestId': '6f1c2a3b-1d2e-4f50-8a9b-0c1d2e3f4a5b',
  'context.extendedRequestId': 'Xb12cFdEIAMFq3A=',
  'context.stage': 'prod',
  'context.httpMethod': 'POST',
  'context.resourcePath': '/checks',
  'context.path': '/prod/checks',
  'context.apiId': 'a1b2c3d4e5',
  'context.accountId': '111111111111',
  'context.domainName': 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
  'context.identity.sourceIp': '192.0.2.10',
  'context.identity.userArn': 'arn:aws:sts::222222222222:assumed-role/ci/session',
  'context.identity.caller': 'AROAEXAMPLE:session',
  'context.identity.user': 'AROAEXAMPLE:session',
  'context.identity.userAgent': 'aws-cli/2.17',
  'context.requestTime': '09/Apr/2026:12:34:56 +0000',
  'context.requestTimeEpoch': '1775738096000',
  'context.protocol': 'HTTP/1.1',
};

const ALLOWED = /^(context\.[A-Za-z][A-Za-z0-9.]*|stageVariables\.[A-Za-z0-9_]+|method\.request\.(header|querystring|path)\.[A-Za-z0-9._-]+)$/;

/** Why a gateway-response template is outside the contract, if it is. */
export function templateProblems(contentType: string, template: string): string[] {
  const problems: string[] = [];
  if (/(^|[^\\])#(set|if|foreach|else|end|macro|define|parse|include|stop|break|evaluate)\b/.test(template)) {
    problems.push('uses a VTL directive; gateway responses are not processed by VTL');
  }
  const refs = [...template.matchAll(/\$!?(?:\{([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}|([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*))(\()?/g)];
  for (const m of refs) {
    const name = m[1] ?? m[2];
    if (m[3] === '(' || /\.[A-Za-z]+\($/.test(template.slice(0, (m.index ?? 0) + m[0].length))) {
      problems.push(`calls ${show(`$${name}(…)`)}; gateway responses substitute variables only`);
    } else if (!ALLOWED.test(name)) {
      problems.push(`uses ${show(`$${name}`)}; gateway responses substitute only $context, $stageVariables and $method.request variables`);
    }
  }
  if (/\)\.[A-Za-z]+\(/.test(template)) problems.push('chains a method call; gateway responses substitute variables only');
  if (/json/i.test(contentType)) {
    const body = substitute(template);
    try {
      JSON.parse(body);
    } catch (e: any) {
      problems.push(`is not JSON once realistic values are substituted (${e.message}): ${show(body, 200)}`);
    }
  }
  return problems;
}

/** The body API Gateway would send: each known variable replaced by a realistic value. */
export function substitute(template: string): string {
  const variable = '((?:context|stageVariables|method\\.request\\.(?:header|querystring|path))(?:\\.[A-Za-z0-9_-]+)+)';
  return template.replace(new RegExp(`\\$!?(?:\\{${variable}\\}|${variable})`, 'g'), (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (REALISTIC_CONTEXT[name] !== undefined) return REALISTIC_CONTEXT[name];
    if (name.startsWith('stageVariables.')) return 'stage-value';
    if (name.startsWith('method.request.')) return 'request-value';
    return whole;
  });
}

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** Every gateway response of a template: substitutions only, and JSON bodies that parse. */
export function checkGatewayResponses(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const r of resourcesOf(stack.template, 'AWS::ApiGateway::GatewayResponse')) {
    for (const [contentType, raw] of Object.entries<any>(r.properties.ResponseTemplates ?? {})) {
      const template = resolver.string(raw);
      if (template === undefined) {
        sink.add('apigateway.gateway-response', `${r.logicalId}.ResponseTemplates.${contentType}`, 'template does not resolve to a string');
        continue;
      }
      for (const p of templateProblems(contentType, template)) {
        sink.add('apigateway.gateway-response', `${r.logicalId}.ResponseTemplates.${contentType}`, `${r.properties.ResponseType} template ${p}`);
      }
    }
  }
  return sink.findings;
}
