import { spawnSync, SpawnSyncReturns } from 'child_process';
import { createHash, createHmac } from 'crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { buildSync } from 'esbuild';
import { run } from '../../bin/cli';

export const ROOT = join(__dirname, '..', '..');

/** The repository's example ddk.json (a valid file). */
export const EXAMPLE = join(ROOT, 'ddk.json');

/** The example ddk.json as an object. */
export function exampleDoc(): any {
  return JSON.parse(readFileSync(EXAMPLE, 'utf-8'));
}

/** Writes a ddk.json document into a fresh folder; returns the folder and the file. */
export function writeDdk(doc: unknown, name = 'ddk.json'): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ddk-cli-'));
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return { dir, file };
}

/** The outcome of a CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in this process (commander wiring included) with captured, non-TTY output. */
export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (s: string) => { stdout += s; }, isTTY: false },
    stderr: { write: (s: string) => { stderr += s; }, isTTY: false },
    env: options.env ?? { PATH: process.env.PATH },
    cwd: options.cwd ?? ROOT,
  });
  return { code, stdout, stderr };
}

/**
 * Bundles bin/cli.ts with esbuild (the options of the projen `bundle` step) into a fresh folder outside the repository, so that a
 * require of aws-cdk-lib (external) could not resolve there: the bundle must never need it.
 */
export function bundleCli(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'ddk-cli-bundle-')), 'ddk-pipelines.js');
  buildSync({
    entryPoints: [join(ROOT, 'bin', 'cli.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: ['aws-cdk-lib', 'constructs'],
    logLevel: 'error',
  });
  return out;
}

/** Runs a bundled CLI as a child process. */
export function execCli(bundle: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult & {
  raw: SpawnSyncReturns<string>;
} {
  const raw = spawnSync(process.execPath, [bundle, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf-8',
    input: options.input,
    timeout: 60_000,
  });
  if (raw.error) throw raw.error;
  return { code: raw.status ?? -1, stdout: raw.stdout, stderr: raw.stderr, raw };
}

/** A request received by the test server. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A local HTTP server on 127.0.0.1 (random port) that records requests and answers with `reply`. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a recording server; `reply` returns [status, body] for each request (the body sent as
 * JSON), or [status, text, content type] to send a text as it is (e.g. an XML answer).
 */
export async function startServer(
  reply: (req: RecordedRequest) => [number, unknown] | [number, string, string] = () => [200, {}],
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf-8') };
      requests.push(recorded);
      const [status, body, contentType] = reply(recorded);
      res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
      res.end(contentType !== undefined ? String(body) : body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}

/** Fake credentials for signing (never valid anywhere). */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE0TEST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** What a local API answers to one request. */
export type Answer = (req: RecordedRequest) => [number, unknown] | [number, string, string];

/** A local API of one describe block (see `localApi`). */
export interface LocalApi {
  /** The recording server (started before the block's tests). */
  readonly server: TestServer;
  /** Answers the requests `route` leaves; reset to the initial answer before each test. */
  answer: Answer;
}

/**
 * A local status-check API for the CLI tests of one describe block: a recording server started
 * before its tests and closed after them, with the AWS SDK's default credential chain reading
 * FAKE_CREDENTIALS meanwhile (the environment is restored afterwards); before each test the
 * recorded requests are cleared and the answer is `initial` again. `route` may answer a request
 * itself (e.g. STS on the same server) by returning an answer, or leave it to `answer`.
 */
export function localApi(initial: Answer, route?: (req: RecordedRequest) => ReturnType<Answer> | undefined): LocalApi {
  const saved = { ...process.env };
  const api = { answer: initial } as { server: TestServer; answer: Answer };
  beforeAll(async () => {
    api.server = await startServer(req => route?.(req) ?? api.answer(req));
    process.env.AWS_ACCESS_KEY_ID = FAKE_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIALS.secretAccessKey;
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
  });
  afterAll(async () => {
    process.env = saved;
    await api.server.close();
  });
  beforeEach(() => {
    api.server.requests.length = 0;
    api.answer = initial;
  });
  return api;
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf-8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf-8').digest();

/** The parts of a verified Authorization header. */
export interface SigV4Parts {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
}

/**
 * Verifies the SigV4 signature of a received request independently (node:crypto, following the
 * published algorithm; not the signing library under test). Returns the parsed Authorization.
 */
export function verifySigV4(req: RecordedRequest, secretAccessKey: string): SigV4Parts {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new Error(`not a SigV4 Authorization header: "${auth}"`);
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = m;
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate?.startsWith(date)) throw new Error(`x-amz-date ${amzDate} does not match the credential date ${date}`);
  const [rawPath, rawQuery = ''] = req.url.split('?');
  const canonicalUri = rawPath.split('/').map(rfc3986).join('/');
  const canonicalQuery = rawQuery === '' ? '' : rawQuery.split('&')
    .map(kv => kv.split('=').map(x => rfc3986(decodeURIComponent(x))))
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v ?? ''}`).join('&');
  const signedHeaders = signedHeaderList.split(';');
  for (const h of ['host', 'x-amz-date']) if (!signedHeaders.includes(h)) throw new Error(`${h} is not signed`);
  const canonicalHeaders = signedHeaders.map(h => {
    if (req.headers[h] === undefined) throw new Error(`signed header ${h} was not sent`);
    return `${h}:${req.headers[h].trim().replace(/\s+/g, ' ')}\n`;
  }).join('');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaderList, sha256(req.body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf-8').digest('hex');
  if (expected !== signature) throw new Error(`signature mismatch for ${req.method} ${req.url}`);
  return { accessKeyId, date, region, service, signedHeaders };
}

/**
 * Checks that a text is well-formed XML: one root element, every tag closed in order
 * (comments, the XML declaration and DOCTYPE skipped). Throws with the first defect.
 */
export function assertWellFormedXml(text: string): string {
  const body = text.replace(/<\?xml[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '').replace(/<!DOCTYPE[^>[]*(\[[\s\S]*?\])?>/g, '');
  const stack: string[] = [];
  let root: string | undefined;
  let roots = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (stack.length === 0) { roots++; root = name; }
      if (!selfClosing) stack.push(name);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  // No < may be left unparsed (a malformed tag or attribute, an unescaped < in text).
  const leftovers = body.replace(/<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g, '');
  const stray = leftovers.indexOf('<');
  if (stray >= 0) throw new Error(`stray < in ${leftovers.slice(Math.max(0, stray - 40), stray + 40)}`);
  return root!;
}
