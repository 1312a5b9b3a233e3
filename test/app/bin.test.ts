import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { ROOT } from '../helpers';

/*
 * `npx ddk-pipelines` after the README's set-up: package.json's command is the committed launcher
 * (it builds the CLI bundle in a source checkout), and the package ships it with the bundle but
 * none of bin/'s sources.
 */
describe('the ddk-pipelines command', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8'));

  test('is the committed launcher, an executable node script', () => {
    expect(pkg.bin).toEqual({ 'ddk-pipelines': 'bin/ddk-pipelines.js' });
    expect(readFileSync(join(ROOT, pkg.bin['ddk-pipelines']), 'utf-8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  test('runs through the launcher', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/ddk-pipelines.js'), '--version'], { cwd: ROOT, encoding: 'utf-8' });
    expect(out.trim()).toBe(pkg.version);
  });

  test('the package ships the launcher and the bundle, not bin/\'s sources', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/ddk-pipelines.js', 'dist/cli/ddk-pipelines.js']));
    expect(files.filter(f => f.startsWith('bin/'))).toEqual(['bin/ddk-pipelines.js']);
  });
});
