import { execSync, spawn } from 'child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  assertWellFormedXml, bundleCli, EXAMPLE, exampleDoc, execCli, FAKE_CREDENTIALS, ROOT, startServer, verifySigV4, writeDdk,
} from './helpers';

/*
 * The CLI as users run it: the esbuild bundle of bin/cli.ts, as a child process, from a folder
 * outside the repository (so aws-cdk-lib cannot be resolved: no command may need it), with a
 * minimal environment (no AWS credentials, no colour, no TTY).
 */
let cli: string;
beforeAll(() => { cli = bundleCli(); }, 60_000);

/** The text of XML character references and the five predefined entities. */
function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

const run = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => execCli(cli, args, options);

/** Runs the bundle without blocking this process (a test server in it must answer the child). */
type AsyncResult = { code: number | null; stdout: string; stderr: string };
const runAsync = (args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) => new Promise<AsyncResult>((resolve) => {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', d => { stdout += d; });
  child.stderr.on('data', d => { stderr += d; });
  child.on('close', code => resolve({ code, stdout, stderr }));
});

describe('help and usage', () => {
  const commands = ['validate', 'plan', 'graph', 'bootstrap', 'checks', 'checks report', 'checks list', 'checks require', 'checks unrequire',
    'override', 'status', 'executions', 'approve', 'reject', 'rollback', 'reviews', 'reviews destroy',
    'release', 'release start', 'release list', 'release status', 'release events'];

  test('--help lists every command, exit 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['validate', 'plan', 'graph', 'bootstrap', 'checks', 'override', 'status', 'executions', 'approve', 'reject', 'rollback', 'reviews', 'release']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  });

  test.each(commands)('%s --help: usage and options, exit 0, no credentials needed', (command) => {
    const r = run([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: ddk-pipelines ${command}`));
    expect(r.stderr).toBe('');
  });

  test('--version and -v: the version of the package, exit 0', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8'));
    for (const flag of ['--version', '-v']) {
      const r = run([flag], { cwd: tmpdir() });
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
    expect(run(['--help']).stdout).toContain('-v, --version');
  });

  test('an unknown command or option: exit 2 with a suggestion, no stack trace', () => {
    const r = run(['valdate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: unknown command \'valdate\'');
    expect(r.stderr).toContain('(Did you mean validate?)');
    const o = run(['plan', '--jsn']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('error: unknown option \'--jsn\'');
    expect(`${r.stderr}${o.stderr}`).not.toMatch(/\n\s+at /);
  });
});

describe('output into a closed pipe (`ddk-pipelines plan | head -1`)', () => {
  /** Runs the bundle with its stdout a pipe whose reading end is closed before the CLI writes. */
  const runIntoClosedPipe = (args: string[], cwd = ROOT) => new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', d => { stderr += d; });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });

  test.each(['plan', 'graph -f dot', 'bootstrap -e dev --dry-run', '--help'])('%s: exits quietly with its own code, no EPIPE stack trace', async (command) => {
    const r = await runIntoClosedPipe(command.split(' '));
    expect(r).toEqual({ code: 0, signal: null, stderr: '' });
  });

  test('an invalid file keeps its exit code 1', async () => {
    const r = await runIntoClosedPipe(['validate', 'nope.json'], tmpdir());
    expect(r).toEqual({ code: 1, signal: null, stderr: '' });
  });
});

describe('validate', () => {
  test('the example ddk.json (explicit path, and ./ddk.json by default): valid, exit 0', () => {
    const r = run(['validate', EXAMPLE], { cwd: tmpdir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✔ .*ddk\.json is valid: pipeline myapp, 2 stages, 3 target environments\n$/);
    expect(run(['validate'], { cwd: ROOT }).code).toBe(0);
  });

  test('a bad file: every problem with path, value, expected and fix, exit 1, no stack trace', () => {
    const doc = exampleDoc();
    doc.environments['prod-us'].region = 'us-east-7';
    doc.environments.dev.account = 2222;
    doc.pipeline.stages[1].requiredChecks = ['integration'];
    const { dir } = writeDdk(doc);
    const r = run(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ ddk.json is not a valid ddk.json (3 problems):');
    for (const path of ['environments.dev.account', 'environments.prod-us.region', 'pipeline.stages[1].requiredChecks[0]']) expect(r.stdout).toContain(path);
    expect(r.stdout).toContain('     value:    "us-east-7"');
    expect(r.stdout).toMatch(/problem: {2}is not a known AWS region \(did you mean "us-east-\d"\?\)/);
    expect(r.stdout.match(/^ {5}expected: /gm)).toHaveLength(3);
    expect(r.stdout.match(/^ {5}fix: /gm)).toHaveLength(3);
    expect(r.stdout).not.toMatch(/\n\s+at /);
  });

  test('--json: the issues as data; exit 1 when invalid', () => {
    const { dir } = writeDdk({ environments: { dev: { account: '222222222222', region: 'eu-west-1' } } });
    const r = run(['validate', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ file: 'ddk.json', valid: false });
    expect(json.issues).toEqual([expect.objectContaining({ path: 'environments.cicd', problem: 'is missing: no environment hosts the pipeline' })]);
  });

  test('a missing file: exit 1 with the reason and the working directory it was looked for in', () => {
    const r = run(['validate', 'nope.json'], { cwd: tmpdir() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('nope.json is not a valid ddk.json (1 problem)');
    expect(r.stdout).toContain(`does not exist (looked for ${join(tmpdir(), 'nope.json')}, relative to the working directory ${tmpdir()})`);
  });

  test('a folder: it says so and names the ddk.json inside it', () => {
    const r = run(['plan', '.'], { cwd: ROOT });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: . is not a valid ddk.json (1 problem):\n'
      + '  - .: is a folder, not a file; expected the path of a readable ddk.json file. Fix: pass the file inside it: ddk.json\n');
  });
});

describe('plan', () => {
  test('the tree of the example: stages, parallel environments, gate, approval, tests', () => {
    const r = run(['plan', EXAMPLE], { cwd: tmpdir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pipeline myapp  (cdk-pipelines, SUPERSEDED) in 111111111111 / eu-west-1');
    expect(r.stdout).toContain('2. stage production\n   ├─ gate      required checks must be success: ci/integration');
    expect(r.stdout).toContain('   ├─ deploy    2 environments in parallel\n   │  ├─ prod-eu  333333333333  eu-west-1\n   │  └─ prod-us  444444444444  us-east-1');
    expect(r.stdout).not.toContain('\u001b['); // not a TTY: no colour
  });

  test('--json', () => {
    const r = run(['plan', '--json'], { cwd: ROOT });
    expect(JSON.parse(r.stdout).stages.map((s: any) => s.name)).toEqual(['development', 'production']);
  });

  test('colour: FORCE_COLOR turns it on, NO_COLOR and --no-color win', () => {
    expect(run(['plan'], { env: { FORCE_COLOR: '1' } }).stdout).toContain('\u001b[1mmyapp\u001b[22m');
    expect(run(['plan'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toContain('\u001b[');
    expect(run(['plan', '--no-color'], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain('\u001b[');
  });

  test('an invalid file: the problems on stderr, exit 1', () => {
    const doc = exampleDoc();
    doc.pipeline.stages[0].environments = ['cicd'];
    const { dir } = writeDdk(doc);
    const r = run(['plan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: ddk.json is not a valid ddk.json (1 problem):\n  - ddk.json: pipeline.stages[0].environments[0]: "cicd" is the CICD environment');
  });
});

describe('graph', () => {
  test('SVG (the default): well-formed, with the stage and environment names, rendered without a browser', () => {
    const r = run(['graph', EXAMPLE], { cwd: tmpdir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(<\?xml|<svg)/);
    expect(assertWellFormedXml(r.stdout)).toBe('svg');
    const texts = [...r.stdout.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map(m => decodeEntities(m[1]));
    for (const text of ['development', 'production', 'dev', 'prod-eu', 'prod-us', 'ci/integration', 'Manual approval', 'npm run smoke']) {
      expect(texts).toContain(text);
    }
  });

  test('-o writes the file; the format follows its extension unless --format says otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddk-graph-'));
    const svg = run(['graph', EXAMPLE, '-o', join(dir, 'out/pipeline.svg')], { cwd: dir });
    expect(svg.code).toBe(0);
    expect(svg.stderr).toMatch(/^wrote .*pipeline\.svg \(svg, \d+ bytes\)\n$/);
    assertWellFormedXml(readFileSync(join(dir, 'out/pipeline.svg'), 'utf-8'));
    expect(run(['graph', EXAMPLE, '-o', join(dir, 'p.mmd')]).code).toBe(0);
    expect(readFileSync(join(dir, 'p.mmd'), 'utf-8')).toMatch(/^flowchart LR\n/);
    expect(run(['graph', EXAMPLE, '--format', 'dot', '-o', join(dir, 'p.txt')]).code).toBe(0);
    expect(readFileSync(join(dir, 'p.txt'), 'utf-8')).toMatch(/^digraph "myapp" \{/);
  });

  test('-o g.png: refused before anything is drawn or written, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddk-graph-'));
    const r = run(['graph', EXAMPLE, '-o', join(dir, 'g.png')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ddk-pipelines cannot write PNG pictures; supported extensions: .svg (svg); .mmd, .mermaid (mermaid); .dot, .gv (dot)');
    expect(existsSync(join(dir, 'g.png'))).toBe(false);
  });

  test('--format mermaid and dot to stdout; an unknown format is a usage error', () => {
    expect(run(['graph', '--format', 'mermaid']).stdout).toContain('subgraph stage2["2. production"]');
    expect(run(['graph', '-f', 'dot']).stdout).toContain('subgraph cluster_stage2');
    const bad = run(['graph', '--format', 'png']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Allowed choices are svg, mermaid, dot');
  });
});

describe('bootstrap', () => {
  test('--dry-run -e dev -a <account>: the exact cdk bootstrap command, nothing run', () => {
    const r = run(['bootstrap', '-e', 'dev', '-a', '999999999999', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('# dev: trusts the CICD account 999999999999\n'
      + 'npx cdk bootstrap aws://222222222222/eu-west-1 --trust 999999999999 --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess\n');
  });

  test('--dry-run for all environments (the default), and --json', () => {
    const r = run(['bootstrap', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const commands = JSON.parse(r.stdout);
    expect(commands.map((c: any) => `${c.account}/${c.region}`)).toEqual([
      '111111111111/eu-west-1', '111111111111/us-east-1', '222222222222/eu-west-1', '333333333333/eu-west-1', '444444444444/us-east-1',
    ]);
    expect(commands[2].argv).toEqual(['npx', 'cdk', 'bootstrap', 'aws://222222222222/eu-west-1', '--trust', '111111111111',
      '--cloudformation-execution-policies', 'arn:aws:iam::aws:policy/AdministratorAccess']);
  });

  test('without --dry-run: runs the CDK CLI for each environment, streams its output, stops at the first failure', () => {
    // GIVEN a stand-in for the CDK CLI that echoes its arguments and fails for one account
    const dir = mkdtempSync(join(tmpdir(), 'fake-cdk-'));
    const fake = join(dir, 'fake-cdk.js');
    writeFileSync(fake, 'console.log("cdk " + process.argv.slice(2).join(" ")); process.exit(process.argv.includes("aws://333333333333/eu-west-1") ? 3 : 0);');
    chmodSync(fake, 0o755);
    const ok = run(['bootstrap', '-e', 'dev', '--cdk', `${process.execPath} ${fake}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('cdk bootstrap aws://222222222222/eu-west-1 --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess\n');
    expect(ok.stderr).toContain('[1/1] dev: trusts the CICD account 111111111111\n$ ');
    // (a credential plugin reaches every account: no profiles needed, nothing checked first)
    const all = run(['bootstrap', '--cdk', `${process.execPath} ${fake} --plugin cred-plugin`]);
    expect(all.code).toBe(3);
    expect(all.stdout.trimEnd().split('\n').map(l => l.split(' ')[4])).toEqual([
      'aws://111111111111/eu-west-1', 'aws://111111111111/us-east-1', 'aws://222222222222/eu-west-1', 'aws://333333333333/eu-west-1',
    ]);
    expect(all.stderr).toContain('exited with code 3; 1 bootstrap(s) not run');
  });

  test('a CDK CLI that cannot be started: a clear error, exit 1', () => {
    const r = run(['bootstrap', '-e', 'dev', '--cdk', '/nonexistent/cdk']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: cannot run /nonexistent/cdk: spawn /nonexistent/cdk ENOENT. Fix: install the AWS CDK CLI or pass --cdk <command>');
  });

  test('--dry-run shows the profile of each account (from ddk.json, or --profile <env>=<profile>, which wins) in the exact commands', () => {
    const doc = exampleDoc();
    doc.environments.cicd.bootstrap = { profile: 'cicd-admin' };
    doc.environments.dev.bootstrap = { profile: 'dev-file' };
    const { dir } = writeDdk(doc);
    const r = run(['bootstrap', '--dry-run', '--profile', 'dev=dev-admin', '--profile', 'prod-eu=prod-eu-admin', '--profile', 'prod-us=prod-us-admin'], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const tail = `--cloudformation-execution-policies ${'arn:aws:iam::aws:policy/AdministratorAccess'}`;
    expect(r.stdout.split('\n').filter(l => !l.startsWith('#') && l !== '')).toEqual([
      `npx cdk bootstrap aws://111111111111/eu-west-1 ${tail} --profile cicd-admin`,
      `npx cdk bootstrap aws://111111111111/us-east-1 ${tail} --profile cicd-admin`,
      `npx cdk bootstrap aws://222222222222/eu-west-1 --trust 111111111111 ${tail} --profile dev-admin`,
      `npx cdk bootstrap aws://333333333333/eu-west-1 --trust 111111111111 ${tail} --profile prod-eu-admin`,
      `npx cdk bootstrap aws://444444444444/us-east-1 --trust 111111111111 ${tail} --profile prod-us-admin`,
    ]);
    const json = JSON.parse(run(['bootstrap', '--dry-run', '--json', '--profile', 'prod-eu=p'], { cwd: dir }).stdout);
    expect(json.map((c: any) => c.profile)).toEqual(['cicd-admin', 'cicd-admin', 'dev-file', 'p', undefined]);
  });

  test('several accounts without profiles: --dry-run says what is needed; a real run refuses before running anything', () => {
    const dry = run(['bootstrap', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('# dev: trusts the CICD account 111111111111 (with your current credentials, which must be for 222222222222)\n');
    expect(dry.stderr).toBe('warning: 4 accounts would be bootstrapped with your current credentials, which reach one account: '
      + '111111111111 (cicd), 222222222222 (dev), 333333333333 (prod-eu), 444444444444 (prod-us). '
      + 'Fix: give the environments of each other account a profile that reaches it: "bootstrap": {"profile": "<profile>"} under environments.<id> in ddk.json, '
      + 'or --profile <env>=<profile> on the command line (e.g. --profile dev=dev-admin; environments in one account share a profile). '
      + 'With a CDK credential plugin that reaches every account, pass --no-account-check\n');
    // GIVEN a stand-in for the CDK CLI that records that it ran
    const dir = mkdtempSync(join(tmpdir(), 'fake-cdk-'));
    const fake = join(dir, 'fake-cdk.js');
    writeFileSync(fake, `require('fs').appendFileSync(${JSON.stringify(join(dir, 'ran'))}, process.argv.slice(2).join(' ') + '\\n');`);
    const real = run(['bootstrap', '--cdk', `${process.execPath} ${fake}`, '--profile', 'prod-eu=shared', '--profile', 'prod-us=shared']);
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('error: cannot bootstrap as given (nothing was run):\n'
      + '  - 2 accounts would be bootstrapped with your current credentials, which reach one account: 111111111111 (cicd), 222222222222 (dev)\n'
      + '  - profile "shared" would be used for 2 accounts, and a profile reaches one account: 333333333333 (prod-eu), 444444444444 (prod-us)\nFix: ');
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    // --no-account-check (a credential plugin configured in cdk.json reaches every account): it runs
    const unchecked = run(['bootstrap', '--no-account-check', '--cdk', `${process.execPath} ${fake}`]);
    expect(unchecked.code).toBe(0);
    expect(readFileSync(join(dir, 'ran'), 'utf-8').trimEnd().split('\n')).toHaveLength(5);
  });

  test('several accounts: each profile\'s account is checked with STS GetCallerIdentity (SigV4) before anything runs', async () => {
    // GIVEN profiles with fake keys, and a local STS that tells the account from the access key
    const home = mkdtempSync(join(tmpdir(), 'ddk-aws-'));
    const key = (name: string) => `AKID${name.toUpperCase().replace(/[^A-Z]/g, '')}TEST`;
    const SECRET = 'fakeSecretKeyForTestsOnly0000000000000000';
    const profiles = ['cicd-admin', 'dev-admin', 'prod-eu-admin', 'prod-us-admin', 'wrong'];
    writeFileSync(join(home, 'credentials'), profiles.map(p => `[${p}]\naws_access_key_id = ${key(p)}\naws_secret_access_key = ${SECRET}\n`).join('\n'));
    writeFileSync(join(home, 'config'), '');
    const accounts: Record<string, string> = {
      [key('cicd-admin')]: '111111111111',
      [key('dev-admin')]: '222222222222',
      [key('prod-eu-admin')]: '333333333333',
      [key('prod-us-admin')]: '444444444444',
      [key('wrong')]: '999999999999',
    };
    const server = await startServer(req => {
      const id = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      return [200, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${accounts[id]}:user/x</Arn>`
        + `<UserId>AIDAEXAMPLE</UserId><Account>${accounts[id]}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`, 'text/xml'];
    });
    const dir = mkdtempSync(join(tmpdir(), 'fake-cdk-'));
    const fake = join(dir, 'fake-cdk.js');
    writeFileSync(fake, 'console.log("cdk " + process.argv.slice(2).join(" "));');
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_ENDPOINT_URL_STS: server.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const bootstrap = (...profileArgs: string[]) => runAsync(['bootstrap', '--cdk', `${process.execPath} ${fake}`, ...profileArgs.flatMap(p => ['--profile', p])], env);
    try {
      // WHEN prod-us is given a profile of another account
      const wrong = await bootstrap('cicd=cicd-admin', 'dev=dev-admin', 'prod-eu=prod-eu-admin', 'prod-us=wrong');
      // THEN nothing runs, and the error names the profile, its account and the one needed
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toBe('');
      expect(wrong.stderr).toContain('error: cannot bootstrap as given (nothing was run):\n  - profile "wrong" is for account 999999999999, not 444444444444 (prod-us)\nFix: ');
      // WHEN every profile is for its account THEN every command runs with its profile
      server.requests.length = 0;
      const ok = await bootstrap('cicd=cicd-admin', 'dev=dev-admin', 'prod-eu=prod-eu-admin', 'prod-us=prod-us-admin');
      expect(ok.code).toBe(0);
      expect(ok.stdout.trimEnd().split('\n').map(l => l.split(' ').slice(-2).join(' '))).toEqual([
        '--profile cicd-admin', '--profile cicd-admin', '--profile dev-admin', '--profile prod-eu-admin', '--profile prod-us-admin',
      ]);
      // one signed GetCallerIdentity per profile, in the region of its first target
      expect(server.requests).toHaveLength(4);
      for (const req of server.requests) {
        expect(req.method).toBe('POST');
        expect(req.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
        expect(verifySigV4(req, SECRET)).toMatchObject({ service: 'sts' });
      }
      expect(server.requests.map(r => verifySigV4(r, SECRET).region)).toEqual(['eu-west-1', 'eu-west-1', 'eu-west-1', 'us-east-1']);
    } finally {
      await server.close();
    }
  });

  test('an unknown environment: exit 2 with a suggestion', () => {
    const r = run(['bootstrap', '-e', 'prd-eu', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: -e prd-eu: no such environment (did you mean "prod-eu"?)');
  });
});

describe('AWS commands from the bundle', () => {
  test('checks report: SigV4 with the credentials of the environment (fake ones here)', async () => {
    const server = await startServer(() => [200, { ok: true }]);
    try {
      const env = {
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        DDK_PIPELINES_API: server.url,
      };
      // spawnSync would block the server in this process: run the child asynchronously
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, 'checks', 'report', '--revision', 'abc', '--context', 'ci/e2e', '--state', 'error'], { cwd: ROOT, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', d => { stdout += d; });
        child.stderr.on('data', d => { stderr += d; });
        child.on('close', code => resolve({ code, stdout, stderr }));
      });
      expect(r).toEqual({ code: 0, stdout: 'recorded ci/e2e: error for myapp @ abc\n', stderr: '' });
      expect(verifySigV4(server.requests[0], FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ accessKeyId: FAKE_CREDENTIALS.accessKeyId, region: 'eu-west-1', service: 'execute-api' });
    } finally {
      await server.close();
    }
  });

  test('status with no pipeline name and no ddk.json: a usage error before any AWS call', () => {
    const r = run(['status'], { cwd: tmpdir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: no --pipeline given and there is no ddk.json in');
  });
});

describe('bin/ddk-pipelines.js: the command exists from the first checkout and builds the bundle it runs', () => {
  /**
   * A checkout without dist/ in a fresh folder: the launcher, the tasks and package.json copied,
   * bin/cli.ts, lib/ and node_modules linked to this repository's.
   */
  function checkout(): string {
    const dir = mkdtempSync(join(tmpdir(), 'ddk-checkout-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, '.projen'));
    copyFileSync(join(ROOT, 'bin', 'ddk-pipelines.js'), join(dir, 'bin', 'ddk-pipelines.js'));
    copyFileSync(join(ROOT, 'bin', 'cli.ts'), join(dir, 'bin', 'cli.ts'));
    copyFileSync(join(ROOT, '.projen', 'tasks.json'), join(dir, '.projen', 'tasks.json'));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'lib'), join(dir, 'lib'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    return dir;
  }
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8'));
  const BUILDING = 'ddk-pipelines: building dist/cli/ddk-pipelines.js';

  test('no bundle yet: it builds dist/cli/ddk-pipelines.js with the bundle task\'s step, then runs it; up to date: it just runs', () => {
    const dir = checkout();
    const first = execCli(join(dir, 'bin', 'ddk-pipelines.js'), ['--version'], { cwd: tmpdir() });
    expect(first).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(first.stderr).toBe(`${BUILDING} (dist/cli/ddk-pipelines.js does not exist yet) ...\n`);
    expect(existsSync(join(dir, 'dist', 'cli', 'ddk-pipelines.js'))).toBe(true);
    const again = execCli(join(dir, 'bin', 'ddk-pipelines.js'), ['plan', EXAMPLE], { cwd: tmpdir() });
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('pipeline myapp');
    // WHEN a source is newer than the bundle THEN it is rebuilt first
    utimesSync(join(dir, 'dist', 'cli', 'ddk-pipelines.js'), new Date('2001-01-01'), new Date('2001-01-01'));
    const stale = execCli(join(dir, 'bin', 'ddk-pipelines.js'), ['--version'], { cwd: tmpdir() });
    expect(stale).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: `${BUILDING} (dist/cli/ddk-pipelines.js is older than its sources) ...\n` });
  }, 90_000);

  test('a checkout without npm ci: a clear error instead of "not found"', () => {
    const dir = checkout();
    unlinkSync(join(dir, 'node_modules'));
    const r = execCli(join(dir, 'bin', 'ddk-pipelines.js'), ['--version'], { cwd: tmpdir() });
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`ddk-pipelines: dist/cli/ddk-pipelines.js does not exist yet and esbuild is not installed. Fix: run \`npm ci\` in ${dir} first\n`);
  });

  test('an installed package (no sources, no tasks) never builds: it runs the shipped bundle, or says the package is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddk-installed-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(ROOT, 'bin', 'ddk-pipelines.js'), join(dir, 'bin', 'ddk-pipelines.js'));
    const broken = execCli(join(dir, 'bin', 'ddk-pipelines.js'), ['--version'], { cwd: tmpdir() });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('dist/cli/ddk-pipelines.js is missing: this package was packed without its build');
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    copyFileSync(cli, join(dir, 'dist', 'cli', 'ddk-pipelines.js'));
    expect(execCli(join(dir, 'bin', 'ddk-pipelines.js'), ['--version'], { cwd: tmpdir() })).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('the projen bundle task builds this CLI', () => {
  test('its step for bin/cli.ts produces a bundle that runs `validate`', () => {
    // GIVEN the esbuild command of the `bundle` task (as `npx projen bundle` runs it), redirected to a temporary file
    const tasks = JSON.parse(readFileSync(join(ROOT, '.projen', 'tasks.json'), 'utf-8')).tasks;
    const step = (tasks.bundle?.steps ?? []).map((s: any) => s.exec ?? '').find((e: string) => e.includes('bin/cli.ts'));
    expect(step).toContain('--outfile=dist/cli/ddk-pipelines.js');
    const out = join(mkdtempSync(join(tmpdir(), 'ddk-projen-bundle-')), 'ddk-pipelines.js');
    execSync(step.replace('--outfile=dist/cli/ddk-pipelines.js', `--outfile=${out}`), {
      cwd: ROOT, env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` }, stdio: 'pipe',
    });
    // THEN it validates the example from outside the repository (jsonc-parser's UMD entry, esbuild's
    // default for platform=node, cannot be bundled: the step needs --main-fields=module,main)
    const r = execCli(out, ['validate', EXAMPLE], { cwd: tmpdir() });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  }, 60_000);
});
