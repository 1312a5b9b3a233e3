import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { exampleDdkJson, ROOT } from '../helpers';

/*
 * `cdk synth` runs cdk.json's app (the bundled dist/app.js): its annotations and errors point at
 * the sources (lib/, bin/), not into the bundle.
 */
test('synth annotations name the source file, not dist/app.js', () => {
  // GIVEN a ddk.json whose dev resources name a construct id nothing uses (a synth warning)
  const dir = mkdtempSync(join(tmpdir(), 'ddk-maps-'));
  const doc = exampleDdkJson();
  doc.pipeline.strategy = 'codepipeline-trunk';
  doc.environments.dev.resources = { 'ddk-bukcet': { versioned: false } };
  writeFileSync(join(dir, 'ddk.json'), JSON.stringify(doc));
  // WHEN cdk.json's app command runs as the CDK CLI runs it
  const app: string = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf-8')).app;
  const [command, ...args] = app.split(' ');
  const context = { ...JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf-8')).context, ddkConfig: join(dir, 'ddk.json') };
  const run = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf-8',
    env: { PATH: process.env.PATH, CDK_OUTDIR: join(dir, 'out'), CDK_CONTEXT_JSON: JSON.stringify(context) },
  });
  // THEN the warning's location is a source file
  const output = `${run.stdout}${run.stderr}`;
  expect(output).toContain('resources["ddk-bukcet"] was not used by any construct');
  expect(output).toMatch(/lib\/sample\/sample-application\.ts:\d+:\d+/);
  expect(output).not.toMatch(/dist\/app\.js:\d+/);
});
