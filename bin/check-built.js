#!/usr/bin/env node
// @ts-check
/*
 * `npm pack` runs this first (package.json "prepack", `--build`): when the build outputs are
 * missing (an unbuilt clone) or older than their sources (edited after the last build), it
 * bundles and compiles first, so no tarball ships without dist/ or with a stale one. Without
 * `--build` it only checks. Either way it exits 1, one line per problem and the fix, when the
 * outputs are still not there. Build output goes to standard error: `npm pack --json` stays JSON.
 */
const { execFileSync } = require('child_process');
const { existsSync, readdirSync, readFileSync, statSync } = require('fs');
const { join, relative } = require('path');

const build = process.argv.includes('--build');
const root = process.argv.slice(2).find(a => !a.startsWith('--')) ?? join(__dirname, '..');
const FIX = 'Fix: run `npx projen bundle && npx projen compile && npx projen post-compile` (or `npm run build`), then `npm pack` again';

/** Every file under `dir` (relative to root) whose name ends with `suffix`. */
function filesUnder(dir, suffix) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && e.name.endsWith(suffix) && !e.name.endsWith('.d.ts'))
    .map(e => relative(root, join(e.parentPath, e.name)));
}

/** What is missing or stale, one line each. */
function problemsOf() {
  const problems = [];
  const mtime = (/** @type {string} */ f) => statSync(join(root, f)).mtimeMs;

  // 1. The jsii build: one dist/<path>.js per lib/<path>.ts, and the assembly.
  const libSources = filesUnder('lib', '.ts');
  for (const src of libSources) {
    const out = src.replace(/^lib/, 'dist').replace(/\.ts$/, '.js');
    if (!existsSync(join(root, out))) problems.push(`${out} is missing (compiled from ${src})`);
    else if (mtime(out) < mtime(src)) problems.push(`${out} is older than ${src} (edited after the last build)`);
  }
  const newestLib = Math.max(0, ...libSources.map(mtime));
  if (!existsSync(join(root, '.jsii'))) problems.push('.jsii (the jsii assembly) is missing');
  else if (mtime('.jsii') < newestLib) problems.push('.jsii is older than the sources in lib/');

  // 2. The esbuild bundles (as .projenrc.ts's bundle task makes them): every handler and the CLI,
  //    newer than everything they may import.
  const handlers = existsSync(join(root, 'lambda'))
    ? readdirSync(join(root, 'lambda')).filter(n => existsSync(join(root, 'lambda', n, 'index.ts'))) : [];
  const bundles = handlers.map(n => `dist/lambda/${n}/index.js`);
  if (existsSync(join(root, 'bin', 'cli.ts'))) bundles.push('dist/cli/ddk-pipelines.js');
  const newestBundled = Math.max(newestLib, ...[...filesUnder('lambda', '.ts'), ...filesUnder('bin', '.ts')].map(mtime));
  for (const out of bundles) {
    if (!existsSync(join(root, out))) problems.push(`${out} is missing (bundled by \`npx projen bundle\`)`);
    else if (mtime(out) < newestBundled) problems.push(`${out} is older than the sources it bundles (lib/, lambda/, bin/)`);
  }

  // 3. The JSON Schema consumers point "$schema" at.
  const schema = 'dist/ddk.schema.json';
  if (!existsSync(join(root, schema))) problems.push(`${schema} is missing (copied from lib/config/ddk.schema.json after the compile)`);
  else if (readFileSync(join(root, schema), 'utf-8') !== readFileSync(join(root, 'lib/config/ddk.schema.json'), 'utf-8')) {
    problems.push(`${schema} differs from lib/config/ddk.schema.json`);
  }
  return problems;
}

let problems = problemsOf();
if (problems.length > 0 && build) {
  process.stderr.write(`ddk-pipelines: building before packing (${problems[0]}${problems.length > 1 ? `, and ${problems.length - 1} more` : ''})\n`);
  const projen = join(root, 'node_modules', '.bin', 'projen');
  if (!existsSync(projen)) {
    process.stderr.write(`ddk-pipelines: cannot build: node_modules/.bin/projen is missing. Fix: run \`npm ci\` in ${root} first\n`);
    process.exit(1);
  }
  try {
    for (const task of ['pre-compile', 'compile', 'post-compile']) {
      execFileSync(projen, [task], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
    }
  } catch {
    process.stderr.write('ddk-pipelines: the build failed (its output is above); nothing was packed\n');
    process.exit(1);
  }
  problems = problemsOf();
}
if (problems.length > 0) {
  const shown = problems.slice(0, 10);
  if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
  process.stderr.write(`ddk-pipelines: refusing to pack: the build outputs are missing or stale (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`
    + shown.map(p => `  - ${p}\n`).join('') + `${FIX}\n`);
  process.exit(1);
}
