/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
/* eslint-enable import/no-extraneous-dependencies */
import { CliError } from './io';
import { Credentials } from './status-check-api';
import { partitionOf } from '../config/regions';

/*
 * Which AWS account a set of credentials belongs to: STS GetCallerIdentity (through the AWS SDK's
 * STS client, one attempt), which needs no permission. `bootstrap` asks it before running
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
  const timeout = options.timeoutMs ?? 15_000;
  const client = new STSClient({
    region: options.region,
    endpoint: endpoint.href,
    credentials: options.credentials ?? fromNodeProviderChain(options.profile !== undefined ? { profile: options.profile } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeout, requestTimeout: timeout },
  });
  try {
    const answer = await client.send(new GetCallerIdentityCommand({}));
    const text = JSON.stringify({ Account: answer.Account, Arn: answer.Arn, UserId: answer.UserId });
    if (answer.Account === undefined || !/^\d{12}$/.test(answer.Account)) {
      throw new CliError(`STS GetCallerIdentity at ${endpoint.origin} answered without an account id: ${text}`);
    }
    return { account: answer.Account, arn: answer.Arn, text, origin: endpoint.origin };
  } catch (e: any) {
    if (e instanceof CliError) throw e;
    if (e?.$metadata?.httpStatusCode !== undefined && e?.$fault !== undefined) {
      throw new CliError(`cannot tell which account ${who} belong${options.profile !== undefined ? 's' : ''} to: STS GetCallerIdentity answered ${e.name}: ${e.message}. Fix: renew the credentials (e.g. \`aws sso login${options.profile !== undefined ? ` --profile ${options.profile}` : ''}\`)`);
    }
    if (e?.name === 'CredentialsProviderError' || /credential/i.test(e?.message ?? '')) {
      const fix = options.profile !== undefined
        ? `check that the profile exists (\`aws configure list-profiles\`); for an SSO profile run \`aws sso login --profile ${options.profile}\``
        : 'set AWS_PROFILE, run `aws sso login` or `aws configure`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
      throw new CliError(`cannot use ${who}: ${e?.message ?? e}. Fix: ${fix}`);
    }
    // the SDK wraps network errors ("AWS SDK error wrapper for Error: connect ECONNREFUSED …")
    const reason = String(e?.message ?? e).replace(/^AWS SDK error wrapper for (Error: )?/, '');
    throw new CliError(`STS at ${endpoint.origin} cannot be reached: ${e?.code ? `${e.code} ` : ''}${reason}`.replace(/\s+/g, ' ').trim());
  } finally {
    client.destroy();
  }
}
