#!/usr/bin/env node
/*
 * Baseline for test/bench/benchmark.ts (not a jest test): the pipeline a typical user (or the
 * AWS DDK) writes with plain aws-cdk-lib/pipelines for the same ddk.json — no cdk-nag, no
 * compaction, no limit checks. It reads only the `environments` map (and, to mirror the layout,
 * the stage → environments grouping of `pipeline.stages`): one wave per stage, one CDK Stage
 * per environment, each deploying a stack with one S3 bucket.
 *
 * Run through the CDK CLI with the project's cdk.json context:
 *   npx cdk synth -c ddkConfig=<file> --app "npx ts-node --transpile-only test/bench/plain-app.ts"
 */
import { readFileSync } from 'fs';
import { App, Stack, Stage, StageProps } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';

interface Env { readonly account: string; readonly region: string }
interface File {
  readonly environments: Record<string, Env>;
  readonly pipeline?: { readonly name?: string; readonly changeSets?: boolean; readonly stages?: Array<{ name: string; environments: string[] }> };
}

class BucketStage extends Stage {
  constructor(scope: Construct, id: string, props: StageProps) {
    super(scope, id, props);
    const stack = new Stack(this, 'DataPipeline');
    new s3.Bucket(stack, 'Bucket');
  }
}

const app = new App();
const file: File = JSON.parse(readFileSync(app.node.tryGetContext('ddkConfig') ?? 'ddk.json', 'utf-8'));
const { cicd, ...targets } = file.environments;
const name = file.pipeline?.name ?? 'plain';
// Layout: the file's stages when given, else one wave per environment.
const waves = file.pipeline?.stages ?? Object.keys(targets).map(id => ({ name: id, environments: [id] }));

const stack = new Stack(app, `${name}-pipeline`, { env: { account: cicd.account, region: cicd.region } });
const repo = new codecommit.Repository(stack, 'Repository', { repositoryName: name });
const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
  crossAccountKeys: true,
  useChangeSets: file.pipeline?.changeSets ?? true,
  synth: new pipelines.ShellStep('Synth', {
    input: pipelines.CodePipelineSource.codeCommit(repo, 'main'),
    commands: ['npm ci', 'npx cdk synth'],
  }),
});
for (const w of waves) {
  const wave = pipeline.addWave(w.name);
  for (const id of w.environments) {
    wave.addStage(new BucketStage(stack, id, { env: { account: targets[id].account, region: targets[id].region } }));
  }
}
app.synth();
