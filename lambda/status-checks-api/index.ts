import { Logger } from '@aws-lambda-powertools/logger';
import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiDependencies, handleApiRequest } from '../../lib/status-checks/api';
import { CodePipelineConditions } from '../../lib/status-checks/condition-overrides';
import { CodeCommitCommentPoster } from '../../lib/status-checks/propagate';
import { pipelineSettings } from '../../lib/status-checks/shared';
import { sharedDependencies } from '../status-checks-runtime';

/*
 * The status-check API (API Gateway REST proxy integration, IAM authorization). A thin adapter:
 * the logic is lib/status-checks/api.ts. SDK clients take region, credentials and endpoints
 * (e.g. AWS_ENDPOINT_URL_DYNAMODB) from the SDK's own settings.
 */

const logger = new Logger({ serviceName: 'ddk-pipelines-status-checks-api' });
let deps: ApiDependencies | undefined;

function dependencies(): ApiDependencies {
  deps ??= {
    ...sharedDependencies(logger),
    comments: new CodeCommitCommentPoster(new CodeCommitClient({})),
    conditions: new CodePipelineConditions(new CodePipelineClient({})),
    settings: pipelineSettings(),
  };
  return deps;
}

/** Path parameters percent-decoded (clients encode segments; valid names never contain "%"). */
function decoded(params: Record<string, string | undefined> | null): Record<string, string | undefined> | null {
  if (!params) return params;
  return Object.fromEntries(Object.entries(params).map(([k, v]) => {
    try {
      return [k, v === undefined ? v : decodeURIComponent(v)];
    } catch {
      return [k, v]; // malformed escapes are left for validation to report
    }
  }));
}

export const handler = async (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> => {
  if (context) logger.addContext(context);
  const identity = event.requestContext?.identity;
  let statusCode: number;
  let body: Record<string, unknown>;
  try {
    ({ statusCode, body } = await handleApiRequest({
      method: event.httpMethod,
      resource: event.resource,
      pathParameters: decoded(event.pathParameters),
      query: event.queryStringParameters,
      body: event.body !== null && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf-8') : event.body,
      // the caller's IAM principal ARN as API Gateway verified it (AWS_IAM authorization); never
      // anything from the body, nor identity.caller (a principal id, not an ARN)
      principal: identity?.userArn ?? undefined,
    }, dependencies()));
  } catch (e) {
    // only a deployment defect gets here (e.g. a missing environment variable)
    logger.error('status-check API misconfigured', { error: (e as Error).message });
    statusCode = 500;
    body = { message: `the status-check API is misconfigured: ${(e as Error).message}` };
  }
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-request-id': event.requestContext?.requestId ?? '' },
    body: JSON.stringify(body),
  };
};
