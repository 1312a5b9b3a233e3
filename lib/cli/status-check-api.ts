/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import * as http from 'http';
import * as https from 'https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
/* eslint-enable import/no-extraneous-dependencies */
import { CliError } from './io';
import { CONDITION_OVERRIDE_ROUTE } from '../safety/shared';
import type { ConditionOverrideRequest } from '../safety/shared';
import type { CheckReport } from '../status-checks/shared';

/*
 * A client of the status-check REST API (API Gateway with IAM authorization): every request is
 * signed with SigV4 (service `execute-api`) using the caller's default AWS credential chain.
 */

/** The environment variable that names the API's base URL. */
export const API_ENDPOINT_ENV = 'DDK_PIPELINES_API';

/** SigV4 service name of API Gateway. */
export const SIGNING_SERVICE = 'execute-api';

// The API's own record shapes: one definition shared by the handlers and this client.
export { CHECK_STATES } from '../status-checks/shared';
export type { CheckReport, CheckState } from '../status-checks/shared';

/** A check as returned by `GET /checks` (fields beyond these are kept as returned). */
export interface CheckRecord {
  readonly context: string;
  readonly state: string;
  readonly stage?: string;
  readonly targetUrl?: string;
  readonly description?: string;
  readonly [key: string]: unknown;
}

/** Response of `GET /checks?pipeline=&revision=`. */
export interface ChecksResponse {
  readonly checks: CheckRecord[];
  readonly history: CheckRecord[];
  readonly [key: string]: unknown;
}

/** Body of `PUT /requirements/{pipeline}/{stage}`. */
export interface RequirementsChange {
  readonly add?: string[];
  readonly remove?: string[];
}

/** Body of `POST /overrides`. */
export interface OverrideRequest {
  readonly pipeline: string;
  readonly stage: string;
  readonly execution: string;
  readonly reason: string;
}

/** AWS credentials. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options of `StatusCheckApi`. */
export interface StatusCheckApiOptions {
  /** Base URL of the API, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/prod`. */
  readonly endpoint: string;
  /** Region to sign for. */
  readonly region: string;
  /** Credentials; default: the AWS SDK's default chain (env, profile, SSO, container, instance). */
  readonly credentials?: Credentials | (() => Promise<Credentials>);
  /** Request timeout in milliseconds; default 30 s. */
  readonly timeoutMs?: number;
}

/** A request to the API before signing. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path below the endpoint, with `{}` segments already encoded, e.g. `/requirements/myapp/prod`. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
}

/**
 * The base URL of the API: `--endpoint`, else the `DDK_PIPELINES_API` environment variable.
 * Only https, except on the loopback interface (a local test server).
 */
export function resolveEndpoint(explicit: string | undefined, env: NodeJS.ProcessEnv): URL {
  const raw = explicit ?? env[API_ENDPOINT_ENV];
  if (raw === undefined || raw.trim() === '') {
    throw new CliError(`no status-check API endpoint. Fix: pass --endpoint <url> or set ${API_ENDPOINT_ENV} to the API URL output by the pipeline stack (https://<id>.execute-api.<region>.amazonaws.com/<stage>)`, 2);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CliError(`${explicit !== undefined ? '--endpoint' : API_ENDPOINT_ENV}: "${raw}" is not a URL. Fix: pass the API URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod`, 2);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new CliError(`${explicit !== undefined ? '--endpoint' : API_ENDPOINT_ENV}: "${raw}" is not an https URL; signed requests go over https only (http is accepted for 127.0.0.1 and localhost). Fix: use the https URL of the API`, 2);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new CliError(`${explicit !== undefined ? '--endpoint' : API_ENDPOINT_ENV}: "${raw}" has a query or fragment. Fix: pass the API's base URL only`, 2);
  }
  return url;
}

/**
 * The region to sign for: `--region`, else the region in an API Gateway host name
 * (`<id>.execute-api.<region>.amazonaws.com`), else AWS_REGION / AWS_DEFAULT_REGION, else `fallback`
 * (the CICD region of ddk.json).
 */
export function resolveSigningRegion(endpoint: URL, explicit: string | undefined, env: NodeJS.ProcessEnv, fallback?: string): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const m = API_HOST.exec(endpoint.hostname);
  if (m) return m[1];
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || fallback;
  if (!region) {
    throw new CliError(`cannot tell the region of the status-check API at ${endpoint.origin}. Fix: pass --region <region> or set AWS_REGION`, 2);
  }
  return region;
}

/** Whether the endpoint's host names its region (`<id>.execute-api.<region>.amazonaws.com`). */
export function hasApiRegion(endpoint: URL): boolean {
  return API_HOST.test(endpoint.hostname);
}

const API_HOST = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** Joins the endpoint's base path and a request path. */
function joinPath(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/** One path segment, percent-encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** The status-check API. */
export class StatusCheckApi {
  private readonly endpoint: URL;
  private readonly signer: SignatureV4;
  private readonly timeoutMs: number;

  constructor(options: StatusCheckApiOptions) {
    this.endpoint = new URL(options.endpoint);
    const credentials = options.credentials ?? fromNodeProviderChain();
    this.signer = new SignatureV4({
      service: SIGNING_SERVICE,
      region: options.region,
      credentials: typeof credentials === 'function' ? credentials : async () => credentials,
      sha256: Sha256,
      uriEscapePath: true,
    });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** `POST /checks`: records a check. */
  public reportCheck(report: CheckReport): Promise<unknown> {
    return this.send({ method: 'POST', path: '/checks', body: report });
  }

  /** `GET /checks?pipeline=&revision=`: the latest check per context and the history. */
  public async listChecks(pipeline: string, revision: string): Promise<ChecksResponse> {
    const r = await this.send({ method: 'GET', path: '/checks', query: { pipeline, revision } }) as Partial<ChecksResponse> | undefined;
    return { ...(r ?? {}), checks: Array.isArray(r?.checks) ? r!.checks : [], history: Array.isArray(r?.history) ? r!.history : [] };
  }

  /** `PUT /requirements/{pipeline}/{stage}`: adds or removes required contexts at run time. */
  public changeRequirements(pipeline: string, stage: string, change: RequirementsChange): Promise<unknown> {
    return this.send({ method: 'PUT', path: `/requirements/${segment(pipeline)}/${segment(stage)}`, body: change });
  }

  /** `POST /overrides`: lets a gate waiting on an `error` check pass. */
  public override(request: OverrideRequest): Promise<unknown> {
    return this.send({ method: 'POST', path: '/overrides', body: request });
  }

  /**
   * `POST /conditions/override`: overrides a stage condition (the deployment windows, BEFORE_ENTRY)
   * for the execution waiting at it; the API records who, why and when, then calls CodePipeline's
   * OverrideStageCondition.
   */
  public overrideCondition(request: ConditionOverrideRequest): Promise<unknown> {
    return this.send({ method: 'POST', path: CONDITION_OVERRIDE_ROUTE, body: request });
  }

  /** The signed HTTP request for an API request (exposed for tests of the signing shape). */
  public async sign(request: ApiRequest, signingDate?: Date): Promise<HttpRequest> {
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = {
      'host': this.endpoint.host,
      'accept': 'application/json',
      'user-agent': 'ddk-pipelines-cli',
    };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const unsigned = new HttpRequest({
      method: request.method,
      protocol: this.endpoint.protocol,
      hostname: this.endpoint.hostname,
      port: this.endpoint.port === '' ? undefined : Number(this.endpoint.port),
      path: joinPath(this.endpoint.pathname, request.path),
      query: request.query,
      headers,
      body,
    });
    try {
      return await this.signer.sign(unsigned, signingDate ? { signingDate } : undefined) as HttpRequest;
    } catch (e: any) {
      throw credentialsError(e);
    }
  }

  /** Signs and sends a request; returns the parsed JSON body of a 2xx response. */
  public async send(request: ApiRequest): Promise<unknown> {
    const signed = await this.sign(request);
    // RFC 3986 encoding (%20, never +), as the signature's canonical query string assumes.
    const query = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const path = `${signed.path}${query === '' ? '' : `?${query}`}`;
    const { status, statusText, text } = await this.transmit(signed, path);
    let parsed: any;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (status < 200 || status > 299) {
      const message = typeof parsed?.message === 'string' ? parsed.message : typeof parsed?.Message === 'string' ? parsed.Message : text.slice(0, 500);
      const hint = status === 403
        ? ' (the API uses IAM authorization: the caller needs execute-api:Invoke on it, and the request must be signed for its region)'
        : '';
      throw new CliError(`status-check API: ${request.method} ${request.path} answered ${status} ${statusText}: ${message || '(no message)'}${hint}`);
    }
    return parsed ?? (text === '' ? undefined : text);
  }

  private transmit(signed: HttpRequest, path: string): Promise<{ status: number; statusText: string; text: string }> {
    const lib = signed.protocol === 'https:' ? https : http;
    return new Promise((resolvePromise, reject) => {
      const req = lib.request({
        method: signed.method,
        hostname: signed.hostname,
        port: signed.port,
        path,
        headers: signed.headers,
        timeout: this.timeoutMs,
        agent: false, // one connection per request: nothing keeps the CLI alive afterwards
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf-8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (e: any) => reject(new CliError(`status-check API at ${this.endpoint.origin} cannot be reached: ${e?.code ?? ''} ${e?.message ?? e}`.replace(/\s+/g, ' '))));
      if (signed.body !== undefined) req.write(signed.body);
      req.end();
    });
  }
}

/** A clear message for a missing or broken credential chain. */
export function credentialsError(e: any): Error {
  if (CliError.isCliError(e)) return e;
  const name = e?.name ?? '';
  if (name === 'CredentialsProviderError' || /credential/i.test(e?.message ?? '')) {
    return new CliError(`no usable AWS credentials: ${e?.message ?? e}. Fix: set AWS_PROFILE, run \`aws sso login\` or \`aws configure\`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  return e instanceof Error ? e : new Error(String(e));
}
