#!/usr/bin/env node
// @ts-check
/*
 * The `ddk-pipelines` command (package.json "bin"). It runs the CLI bundle
 * dist/cli/ddk-pipelines.js (bin/cli.ts bundled by esbuild). This launcher is committed so that
 * the command exists from the first checkout: npm links a package's bins only when their files
 * exist, and `npx ddk-pipelines` in a fresh clone (before any build) would otherwise cache an
 * install without the command and keep answering "not found" after the build.
 *
 * In a source checkout (bin/cli.ts and .projen/tasks.json present) it first builds the bundle when it is missing or
 * older than the sources, with the `bundle` task's own esbuild step from .projen/tasks.json. An
 * installed package ships the bundle and never builds.
 */
const { execSync } = require('child_process');
const { existsSync, readdirSync, readFileSync, statSync } = require('fs');
const { join, relative } = require('path');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'cli', 'ddk-pipelines.js');
const BUNDLE = relative(root, bundle);

/** The newest modification time of the TypeScript sources the bundle is built from. */
function newestSource() {
  let newest = 0;
  for (const dir of ['bin', 'lib']) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const e of readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  }
  return newest;
}

/** Why the bundle must be built first, or undefined when it is up to date. */
function needsBuild() {
  if (!existsSync(bundle)) return `${BUNDLE} does not exist yet`;
  if (statSync(bundle).mtimeMs < newestSource()) return `${BUNDLE} is older than its sources`;
  return undefined;
}

/** Builds the bundle with the esbuild step of the `bundle` task (the one that names bin/cli.ts). */
function build(reason) {
  const fail = (/** @type {string} */ message) => {
    process.stderr.write(`ddk-pipelines: ${message}\n`);
    process.exit(1);
  };
  const tasksFile = join(root, '.projen', 'tasks.json');
  const steps = JSON.parse(readFileSync(tasksFile, 'utf-8')).tasks?.bundle?.steps ?? [];
  const step = steps.map((/** @type {{exec?: string}} */ s) => s.exec ?? '').find((/** @type {string} */ e) => e.includes('bin/cli.ts'));
  if (!step) fail(`${reason} and the bundle task has no step for bin/cli.ts. Fix: run \`npx projen\`, then \`npx projen bundle\``);
  if (!existsSync(join(root, 'node_modules', '.bin', 'esbuild'))) fail(`${reason} and esbuild is not installed. Fix: run \`npm ci\` in ${root} first`);
  process.stderr.write(`ddk-pipelines: building ${BUNDLE} (${reason}) ...\n`);
  try {
    execSync(step, { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
  } catch {
    fail(`building ${BUNDLE} failed (esbuild's output is above). Fix: run \`npx projen bundle\` in ${root} and correct what it reports`);
  }
}

// A source checkout has the entry point and the projen tasks; an installed package has neither.
if (existsSync(join(root, 'bin', 'cli.ts')) && existsSync(join(root, '.projen', 'tasks.json'))) {
  const reason = needsBuild();
  if (reason !== undefined) build(reason);
}
if (!existsSync(bundle)) {
  process.stderr.write(`ddk-pipelines: ${bundle} is missing: this package was packed without its build. Fix: reinstall it from a built package\n`);
  process.exit(1);
}
require(bundle).main();
