import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, CodePipelineEvent } from 'aws-lambda';
import { ENV, GateParameters, PipelineSettings, tableDefinition } from '../../lib/status-checks/shared';

/*
 * Test helpers for the status-check handlers: a DynamoDB-protocol server (dynalite) on loopback
 * with the construct's key schema, the handlers' environment, and event builders.
 */

// dynalite ships no type declarations
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require('dynalite');

/** A dynalite server on 127.0.0.1 (random port) holding one table created with `tableDefinition()`. */
export class LocalDynamo {
  /** Starts the server and creates the table. */
  public static async start(tableName: string): Promise<LocalDynamo> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const local = new LocalDynamo(server, endpoint, tableName);
    await local.client.send(new CreateTableCommand(tableDefinition(tableName)));
    return local;
  }

  public readonly client: DynamoDBClient;

  private constructor(private readonly server: Server, public readonly endpoint: string, public readonly tableName: string) {
    this.client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  }

  /** Deletes the table (the store becomes unreadable). */
  public async dropTable(): Promise<void> {
    await this.client.send(new DeleteTableCommand({ TableName: this.tableName }));
  }

  public async stop(): Promise<void> {
    this.client.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}

/** The example ddk.json's pipeline, as the construct writes it for the API and the gate. */
export const SETTINGS: PipelineSettings = {
  pipeline: 'myapp',
  file: 'ddk.json',
  repository: 'myapp',
  stages: [
    { name: 'development', index: 0, requiredChecks: [] },
    { name: 'production', index: 1, requiredChecks: ['ci/integration'] },
  ],
};

/**
 * The handlers' environment, as the construct sets it, plus the SDK's own settings: region,
 * dummy credentials and the DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB, which the handlers
 * never override).
 */
export function handlerEnvironment(local: LocalDynamo, settings: PipelineSettings = SETTINGS): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    AWS_MAX_ATTEMPTS: '1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [ENV.TABLE_NAME]: local.tableName,
    [ENV.EVENT_BUS_NAME]: 'arn:aws:events:eu-west-1:111111111111:event-bus/default',
    [ENV.RETENTION_DAYS]: '30',
    [ENV.PIPELINE_SETTINGS]: JSON.stringify(settings),
  };
}

export const ALICE = 'arn:aws:sts::111111111111:assumed-role/release-managers/alice';
export const CI = 'arn:aws:iam::111111111111:user/ci';

/**
 * An API Gateway proxy event as a REST API with IAM authorization sends it (the API Gateway
 * developer guide, "Input format of a Lambda function for proxy integration", AWS_IAM example):
 * `requestContext.identity` carries the caller's ARN (`userArn`) and its principal id (`caller`).
 */
export function apiEvent(options: {
  method: string;
  resource: string;
  body?: unknown;
  query?: Record<string, string>;
  path?: Record<string, string>;
  /** The signer's ARN (`userArn`); null for an unsigned request. */
  principal?: string | null;
  /** `identity.caller`, the principal id. @default - an id when signed, null when not */
  caller?: string | null;
  base64?: boolean;
}): APIGatewayProxyEvent {
  const raw = options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const body = raw !== null && options.base64 ? Buffer.from(raw).toString('base64') : raw;
  const principal = options.principal === undefined ? CI : options.principal;
  const caller = options.caller !== undefined ? options.caller : principal === null ? null : 'AIDAEXAMPLEPRINCIPAL';
  const resolvedPath = Object.entries(options.path ?? {}).reduce((p, [k, v]) => p.replace(`{${k}}`, encodeURIComponent(v)), options.resource);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Host': 'abc123.execute-api.eu-west-1.amazonaws.com', 'User-Agent': 'ddk-pipelines-test' };
  return {
    resource: options.resource,
    path: resolvedPath,
    httpMethod: options.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: options.path ?? null,
    stageVariables: null,
    requestContext: {
      accountId: '111111111111',
      apiId: 'abc123',
      resourceId: 'r3s0rc',
      resourcePath: options.resource,
      httpMethod: options.method,
      stage: 'prod',
      path: `/prod${resolvedPath}`,
      protocol: 'HTTP/1.1',
      requestId: 'req-1',
      requestTime: '20/Feb/2030:22:48:57 +0000',
      requestTimeEpoch: 1896043737665,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: principal === null ? null : '111111111111',
        cognitoIdentityId: null,
        caller,
        sourceIp: '192.0.2.10',
        accessKey: principal === null ? null : 'ASIAEXAMPLEKEY',
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: principal,
        userAgent: 'ddk-pipelines-test',
        user: caller,
      },
    } as unknown as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: !!options.base64,
  };
}

/**
 * A CodePipeline job event for the gate, as CodePipeline invokes a Lambda invoke action (the
 * CodePipeline user guide, "AWS Lambda invoke action reference", example JSON event), with
 * UserParameters and, on a re-invocation, the continuation token.
 */
export function gateEvent(params: Partial<GateParameters> | string, continuationToken?: string, jobId = 'job-1'): CodePipelineEvent {
  const userParameters = typeof params === 'string' ? params : JSON.stringify({
    pipeline: 'myapp', stage: 'production', revision: 'abc', executionId: 'exec-1', timeoutMinutes: 60, ...params,
  });
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '111111111111',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'gate', UserParameters: userParameters } },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'x', sessionToken: 'x' },
        ...(continuationToken !== undefined ? { continuationToken } : {}),
        encryptionKey: { id: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab', type: 'KMS' },
      },
    },
  } as CodePipelineEvent;
}

/** Sets environment variables for the duration of a test file. */
export function setEnvironment(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map(k => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
