import { spawnSync } from 'child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { ROOT } from '../helpers';

/*
 * bin/check-built.js is package.json's "prepack": `npm pack` must not produce a package without
 * dist/ (an unbuilt clone) or with a dist/ older than the sources. It runs here on a small tree
 * laid out like this repository.
 */
const SCRIPT = join(ROOT, 'bin', 'check-built.js');

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'ddk-check-built-'));
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'x' }),
    'lib/index.ts': 'export * from "./config/a";',
    'lib/config/a.ts': 'export const a = 1;',
    'lib/config/ddk.schema.json': '{"type":"object"}\n',
    'lambda/handler/index.ts': 'export const handler = 1;',
    'bin/cli.ts': 'console.log(1);',
  };
  for (const [path, text] of Object.entries(files)) write(root, path, text, 120); // written before any build
  return root;
}

function write(root: string, path: string, text: string, ageSeconds = 0) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  const t = Date.now() / 1000 - ageSeconds;
  utimesSync(join(root, path), t, t);
}

function build(root: string, ageSeconds = 0) {
  for (const out of ['dist/index.js', 'dist/config/a.js', '.jsii', 'dist/lambda/handler/index.js', 'dist/cli/ddk-pipelines.js']) write(root, out, '//', ageSeconds);
  write(root, 'dist/ddk.schema.json', readFileSync(join(root, 'lib/config/ddk.schema.json'), 'utf-8'), ageSeconds);
}

function run(root: string, ...flags: string[]) {
  const r = spawnSync(process.execPath, [SCRIPT, ...flags, root], { encoding: 'utf-8' });
  return { status: r.status, err: r.stderr };
}

test('an unbuilt tree is refused, every missing output named, with the fix', () => {
  const r = run(tree());
  expect(r.status).toBe(1);
  expect(r.err).toContain('ddk-pipelines: refusing to pack: the build outputs are missing or stale (6 problems):');
  for (const line of [
    'dist/index.js is missing (compiled from lib/index.ts)',
    'dist/config/a.js is missing (compiled from lib/config/a.ts)',
    '.jsii (the jsii assembly) is missing',
    'dist/lambda/handler/index.js is missing (bundled by `npx projen bundle`)',
    'dist/cli/ddk-pipelines.js is missing',
    'dist/ddk.schema.json is missing',
  ]) expect(r.err).toContain(line);
  expect(r.err).toContain('Fix: run `npx projen bundle && npx projen compile && npx projen post-compile` (or `npm run build`), then `npm pack` again');
});

test('a built tree passes', () => {
  const root = tree();
  build(root);
  expect(run(root)).toEqual({ status: 0, err: '' });
});

test('a source edited after the build makes its output, the assembly and the bundles stale', () => {
  const root = tree();
  build(root, 60);
  write(root, 'lib/config/a.ts', 'export const a = 2;');
  const r = run(root);
  expect(r.status).toBe(1);
  expect(r.err).toContain('dist/config/a.js is older than lib/config/a.ts (edited after the last build)');
  expect(r.err).toContain('.jsii is older than the sources in lib/');
  expect(r.err).toContain('dist/lambda/handler/index.js is older than the sources it bundles');
  expect(r.err).not.toContain('dist/index.js');
});

test('a handler edited after the build makes the bundles stale, not the jsii output', () => {
  const root = tree();
  build(root, 60);
  write(root, 'lambda/handler/index.ts', 'export const handler = 2;');
  const r = run(root);
  expect(r.err).toContain('dist/lambda/handler/index.js is older than the sources it bundles (lib/, lambda/, bin/)');
  expect(r.err).toContain('dist/cli/ddk-pipelines.js is older than the sources it bundles');
  expect(r.err).not.toContain('.jsii');
});

test('a schema that differs from lib/config/ddk.schema.json is stale', () => {
  const root = tree();
  build(root);
  write(root, 'dist/ddk.schema.json', '{}\n');
  expect(run(root).err).toContain('dist/ddk.schema.json differs from lib/config/ddk.schema.json');
});

test('with --build (npm pack), a tree without node_modules says to run npm ci first', () => {
  const root = tree();
  const r = run(root, '--build');
  expect(r.status).toBe(1);
  expect(r.err).toContain('ddk-pipelines: building before packing (dist/index.js is missing (compiled from lib/index.ts), and 5 more)');
  expect(r.err).toContain(`ddk-pipelines: cannot build: node_modules/.bin/projen is missing. Fix: run \`npm ci\` in ${root} first`);
});

test('npm pack runs the check, building first', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8'));
  expect(pkg.scripts.prepack).toBe('node bin/check-built.js --build');
});

test('jsii-pacmak (npm run build, npx jsii-pacmak) finds .npmignore already excluding its output folder, and leaves it as it is', async () => {
  // jsii-pacmak appends its output folder to .npmignore unless that exact line is there
  const dir = mkdtempSync(join(tmpdir(), 'ddk-npmignore-'));
  copyFileSync(join(ROOT, '.npmignore'), join(dir, '.npmignore'));
  const outdir = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8')).jsii.outdir;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { updateAllNpmIgnores } = require('jsii-pacmak/lib/npm-modules');
  await updateAllNpmIgnores([{ moduleDirectory: dir, outputDirectory: join(dir, outdir) }]);
  expect(readFileSync(join(dir, '.npmignore'), 'utf-8')).toEqual(readFileSync(join(ROOT, '.npmignore'), 'utf-8'));
});
