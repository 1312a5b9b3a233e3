import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { exampleDdkJson, ROOT } from '../helpers';

/*
 * The package as a consumer gets it (README, "Using the constructs in your own CDK app"):
 * `npm pack` in this repository (its prepack check), the tarball installed offline into an empty
 * project, the README's TypeScript example type-checked against the installed typings and
 * synthesized with `-c ddkConfig=` (the CDK CLI hands context to the app as CDK_CONTEXT_JSON).
 * The peers (aws-cdk-lib, constructs, cdk-nag) and @types/node are linked from this repository's
 * node_modules: installing them from the registry is the consumer's own step.
 */

/** The README section a consumer follows. */
function consumerSection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf-8');
  const start = readme.indexOf('## Using the constructs in your own CDK app\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The one code block of `lang` in the consumer section. */
function codeBlock(lang: string): string {
  const blocks = [...consumerSection().matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].filter(m => m[1] === lang);
  expect(blocks).toHaveLength(1);
  return blocks[0][2];
}

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] });

let work: string;
let tarball: string;
let packed: string[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ddk-pack-'));
  // --ignore-scripts is not given: the prepack check runs (it fails when dist/ is missing or stale)
  const out = JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT));
  tarball = join(work, out[0].filename);
  packed = out[0].files.map((f: { path: string }) => f.path);
}, 120_000);

test('the tarball holds the compiled library, the bundles, the schema and the CLI, and none of the sources or build leftovers', () => {
  const handlers = readdirSync(join(ROOT, 'lambda')).filter(n => existsSync(join(ROOT, 'lambda', n, 'index.ts')));
  expect(handlers.length).toBeGreaterThan(0);
  expect(packed).toEqual(expect.arrayContaining([
    'package.json', 'README.md', '.jsii', 'dist/index.js', 'dist/index.d.ts', 'dist/config/app-config.js',
    'dist/ddk.schema.json', 'dist/cli/ddk-pipelines.js', 'node_modules/zod/package.json', 'node_modules/jsonc-parser/package.json',
    ...handlers.map(h => `dist/lambda/${h}/index.js`),
  ]));
  // the package's commands are packed; no other file of bin/ is
  const commands: string[] = Object.values(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8')).bin);
  expect(packed).toEqual(expect.arrayContaining(commands));
  const leftovers = packed.filter(p => !commands.includes(p))
    .filter(p => /^(lib|bin|test|lambda|dist-pkg|cdk\.out|\.ci|\.projen|coverage|test-reports)\//.test(p) || /^(ddk|cdk|tsconfig)\.json$/.test(p) || p === 'dist/app.js');
  expect(leftovers).toEqual([]);
});

test('an app installs the tarball offline and synthesizes the README\'s TypeScript example with -c ddkConfig=', () => {
  // GIVEN an empty project with the tarball installed, the peers linked
  const app = join(work, 'consumer');
  mkdirSync(join(app, 'bin'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', '--no-package-lock', tarball], app);
  for (const dep of ['aws-cdk-lib', 'constructs', 'cdk-nag', '@types/node']) {
    mkdirSync(join(app, 'node_modules', dep, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
  }
  // the peers the README names: aws-cdk-lib and constructs, and cdk-nag 3 as an optional one
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'ddk-pipelines', 'package.json'), 'utf-8'));
  expect(installed.peerDependencies).toEqual({ 'aws-cdk-lib': expect.stringMatching(/^\^2\./), 'constructs': expect.stringMatching(/^\^10\./), 'cdk-nag': '^3.0.2' });
  expect(installed.peerDependenciesMeta).toEqual({ 'cdk-nag': { optional: true } });
  expect(consumerSection()).toContain(`cdk-nag@${installed.peerDependencies['cdk-nag']}`);
  // the README's $schema path is inside the installed package
  const schemaRef = JSON.parse(codeBlock('json')).$schema;
  expect(readFileSync(resolve(app, schemaRef), 'utf-8')).toEqual(readFileSync(join(ROOT, 'lib/config/ddk.schema.json'), 'utf-8'));
  // ./ddk.json (as the README points it at the schema), and another file the context names
  writeFileSync(join(app, 'ddk.json'), JSON.stringify({ ...exampleDdkJson(), $schema: schemaRef }));
  mkdirSync(join(app, 'config'));
  const other = exampleDdkJson();
  other.pipeline.name = 'consumer-data';
  writeFileSync(join(app, 'config', 'ddk.json'), JSON.stringify(other));
  // the CLI the package carries reads the file (bin link from the tarball's "bin")
  execFileSync(join(app, 'node_modules', '.bin', 'ddk-pipelines'), ['validate', 'ddk.json'], { cwd: app, stdio: 'pipe' });

  // WHEN the README's example is type-checked, compiled and run as `cdk synth -c ddkConfig=config/ddk.json` runs it
  writeFileSync(join(app, 'bin', 'app.ts'), codeBlock('ts'));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, types: ['node'], lib: ['es2022'] },
    include: ['bin/**/*.ts'],
  }));
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: app, stdio: 'pipe' });
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_OUTDIR: join(app, 'cdk.out'), CDK_CONTEXT_JSON: JSON.stringify({ ddkConfig: 'config/ddk.json' }) };
  delete env.DDK_PIPELINE_NAME;
  execFileSync(process.execPath, ['bin/app.js'], { cwd: app, env, stdio: 'pipe' });

  // THEN the CICD stack is named by the plan of the file the context named, and the dev bucket
  // has the removal policy its ddk.json entry sets
  const manifest = JSON.parse(readFileSync(join(app, 'cdk.out', 'manifest.json'), 'utf-8'));
  expect(Object.keys(manifest.artifacts)).toContain('consumer-data-pipeline');
  const devDir = join(app, 'cdk.out', 'assembly-consumer-data-pipeline-Delivery-dev');
  const devTemplate = readdirSync(devDir).find(f => f.endsWith('.template.json'))!;
  const dev = JSON.parse(readFileSync(join(devDir, devTemplate), 'utf-8'));
  const [, bucket]: [string, any] = Object.entries(dev.Resources).find(([id, r]: [string, any]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('ddkbucket'))!;
  expect(bucket.DeletionPolicy).toBe('Delete');
}, 120_000);
