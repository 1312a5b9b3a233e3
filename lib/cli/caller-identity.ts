/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import * as http from 'http';
import * as https from 'https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
/* eslint-enable import/no-extraneous-dependencies */
import { CliError } from './io';
import { Credentials } from './status-check-api';
import { partitionOf } from '../config/regions';

/*
 * Which AWS account a set of credentials belongs to: STS GetCallerIdentity (Query API, POST,
 * SigV4 with service `sts`), which needs no permission. `bootstrap` asks it before running
 * `cdk bootstrap` in several accounts, so that credentials for the wrong account are a clear
 * error up front rather than a CDK CLI failure halfway through.
 */

/** Options of `callerAccount`. */
export interface CallerAccountOptions {
  /** The region whose STS endpoint is asked (and signed for). */
  readonly region: string;
  /**
   * The AWS profile to take credentials from.
   *
   * @default - the default credential chain (AWS_PROFILE, environment, SSO, …)
   */
  readonly profile?: string;
  /** Environment variables: `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` override the endpoint. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Credentials to sign with.
   *
   * @default - from `profile`, else the default credential chain
   */
  readonly credentials?: () => Promise<Credentials>;
  /**
   * Request timeout in milliseconds.
   *
   * @default 15000
   */
  readonly timeoutMs?: number;
}

/** The STS endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (the SDKs' settings), else the region's. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv): URL {
  const configured = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  if (configured) {
    try {
      return new URL(configured);
    } catch {
      throw new CliError(`${env.AWS_ENDPOINT_URL_STS ? 'AWS_ENDPOINT_URL_STS' : 'AWS_ENDPOINT_URL'}: "${configured}" is not a URL. Fix: unset it, or set it to the STS endpoint URL`, 2);
    }
  }
  const suffix = partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://sts.${region}.${suffix}/`);
}

const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/** Who a set of credentials is: STS GetCallerIdentity's answer. */
export interface CallerIdentity {
  /** The 12-digit account id. */
  readonly account: string;
  /** The ARN of the calling principal (an IAM user, an assumed role's session, …). */
  readonly arn: string;
}

/** The 12-digit account id of the credentials (of `profile`, else of the default chain). */
export async function callerAccount(options: CallerAccountOptions): Promise<string> {
  return (await getCallerIdentity(options)).account;
}

/** The account and the principal ARN of the credentials (of `profile`, else of the default chain). */
export async function callerIdentity(options: CallerAccountOptions): Promise<CallerIdentity> {
  const { account, arn, text, origin } = await getCallerIdentity(options);
  if (arn === undefined) throw new CliError(`STS GetCallerIdentity at ${origin} answered without an ARN: ${text.slice(0, 300)}`);
  return { account, arn };
}

async function getCallerIdentity(options: CallerAccountOptions): Promise<{ account: string; arn?: string; text: string; origin: string }> {
  const endpoint = stsEndpoint(options.region, options.env);
  const who = options.profile !== undefined ? `profile "${options.profile}"` : 'your current credentials';
  const credentials = options.credentials ?? fromNodeProviderChain(options.profile !== undefined ? { profile: options.profile } : {});
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials, sha256: Sha256 });
  const unsigned = new HttpRequest({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port === '' ? undefined : Number(endpoint.port),
    path: endpoint.pathname || '/',
    headers: {
      'host': endpoint.host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'content-length': String(Buffer.byteLength(BODY)),
      'user-agent': 'ddk-pipelines-cli',
    },
    body: BODY,
  });
  let signed: HttpRequest;
  try {
    signed = await signer.sign(unsigned) as HttpRequest;
  } catch (e: any) {
    const fix = options.profile !== undefined
      ? `check that the profile exists (\`aws configure list-profiles\`); for an SSO profile run \`aws sso login --profile ${options.profile}\``
      : 'set AWS_PROFILE, run `aws sso login` or `aws configure`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
    throw new CliError(`cannot use ${who}: ${e?.message ?? e}. Fix: ${fix}`);
  }
  const { status, text } = await post(signed, options.timeoutMs ?? 15_000, endpoint);
  if (status < 200 || status > 299) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${status}`;
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 300);
    throw new CliError(`cannot tell which account ${who} belong${options.profile !== undefined ? 's' : ''} to: STS GetCallerIdentity answered ${code}: ${message}. Fix: renew the credentials (e.g. \`aws sso login${options.profile !== undefined ? ` --profile ${options.profile}` : ''}\`)`);
  }
  const account = /<Account>(\d{12})<\/Account>/.exec(text)?.[1];
  if (account === undefined) throw new CliError(`STS GetCallerIdentity at ${endpoint.origin} answered without an account id: ${text.slice(0, 300)}`);
  const arn = /<Arn>\s*(arn:[^<\s]+)\s*<\/Arn>/.exec(text)?.[1];
  return { account, arn, text, origin: endpoint.origin };
}

function post(signed: HttpRequest, timeoutMs: number, endpoint: URL): Promise<{ status: number; text: string }> {
  const lib = signed.protocol === 'https:' ? https : http;
  return new Promise((resolvePromise, reject) => {
    const req = lib.request({
      method: signed.method,
      hostname: signed.hostname,
      port: signed.port,
      path: signed.path,
      headers: signed.headers,
      timeout: timeoutMs,
      agent: false, // one connection per request: nothing keeps the CLI alive afterwards
    }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf-8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e: any) => reject(new CliError(`STS at ${endpoint.origin} cannot be reached: ${e?.code ?? ''} ${e?.message ?? e}`.replace(/\s+/g, ' '))));
    req.write(signed.body);
    req.end();
  });
}
