import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildApp } from '../../bin/build-app';
import { CDK_CONTEXT, ROOT, SEED_DDK_JSON } from '../helpers';

const tmp = mkdtempSync(join(tmpdir(), 'ddk-app-'));
function file(name: string, doc: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return path;
}

describe('the default app', () => {
  test('the example ddk.json synthesizes with zero cdk-nag and CloudFormation-validation findings', () => {
    const warnings: string[] = [];
    const { app } = buildApp({ file: join(ROOT, 'ddk.json'), context: CDK_CONTEXT, outdir: join(tmp, 'out-example'), warn: w => warnings.push(w) });
    // findings are errors (cdk-nag 3, validateAgainstDefaultRules): synth throws on any unacknowledged one
    expect(() => app.synth()).not.toThrow();
    expect(warnings).toEqual([]);
  });

  test('the seed\'s ddk.json synthesizes with zero findings too', () => {
    const { app } = buildApp({ file: file('seed.json', SEED_DDK_JSON), context: CDK_CONTEXT, outdir: join(tmp, 'out-seed') });
    expect(() => app.synth()).not.toThrow();
  });

  test('inside CodeBuild (DDK_PIPELINE_NAME set by the pipeline), a file without a name keeps the deployed name, not the checkout folder\'s', () => {
    // GIVEN the seed's file (no pipeline.name, no tag) checked out into a folder named src
    const src = join(tmp, 'src');
    mkdirSync(src, { recursive: true });
    const path = join(src, 'ddk.json');
    writeFileSync(path, JSON.stringify(SEED_DDK_JSON));
    const warnings: string[] = [];
    const local = buildApp({ file: path, context: CDK_CONTEXT, outdir: join(tmp, 'out-src-local'), warn: w => warnings.push(w), env: {} });
    expect(local.stack.stackName).toBe('src-pipeline');
    expect(warnings.join('\n')).toContain('pipeline.name is not set and there is no "application" or "project" tag');
    // WHEN the pipeline's own build synthesizes it with the name it was deployed under
    const built = buildApp({ file: path, context: CDK_CONTEXT, outdir: join(tmp, 'out-src-built'), warn: () => undefined, env: { DDK_PIPELINE_NAME: 'my-data-app' } });
    // THEN the stack and pipeline keep that name
    expect(built.stack.stackName).toBe('my-data-app-pipeline');
    expect(built.plan.name).toBe('my-data-app');
  });

  test('with review environments: the app and a review build (DDK_REVIEW_* set) synthesize with zero findings, the review build also the pull request\'s stacks', () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'ddk.json'), 'utf-8'));
    doc.pipeline = { ...doc.pipeline, review: { environment: 'dev', tests: ['npm run e2e'] } };
    const path = file('review.json', doc);
    const normal = buildApp({ file: path, context: CDK_CONTEXT, outdir: join(tmp, 'out-review'), warn: () => undefined, env: {} });
    const cicd = normal.app.synth();
    expect(cicd.stacks.map(st => st.stackName)).toContain('myapp-pipeline');
    expect(cicd.artifacts.map(a => a.id).filter(id => id.includes('DdkReviewStage'))).toEqual([]);
    // WHEN the review build of pull request 7 runs the app
    const review = buildApp({
      file: path,
      context: CDK_CONTEXT,
      outdir: join(tmp, 'out-review-pr7'),
      warn: () => undefined,
      env: { DDK_PIPELINE_NAME: 'myapp', DDK_REVIEW_ID: 'pr7', DDK_REVIEW_COMMIT: 'c0ffee', DDK_REVIEW_PULL_REQUEST: '7' },
    });
    // THEN the same CICD stack, plus the review stage, in the nested assembly the review build deploys
    const assembly = review.app.synth();
    const variables = Object.values<any>(assembly.getStackByName('myapp-pipeline').template.Resources)
      .filter(r => r.Type === 'AWS::CodeBuild::Project').flatMap(r => r.Properties.Environment.EnvironmentVariables ?? []);
    const assemblyId = variables.find((v: any) => v.Name === 'DDK_REVIEW_ASSEMBLY').Value;
    const stacks = assembly.getNestedAssembly(assemblyId).stacks;
    expect(stacks.map(st => [st.stackName, st.environment.account, st.tags['ddk-pipelines:review']])).toEqual([['myapp-review-pr7-DataPipeline', '222222222222', 'pr7']]);
  });

  test.each(['codepipeline-trunk', 'codepipeline-gitflow'])('the %s strategy (with rollback and notifications) synthesizes with zero findings', strategy => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'ddk.json'), 'utf-8'));
    doc.pipeline = { ...doc.pipeline, strategy, rollbackOnFailure: true, notifications: { emails: ['ops@example.com'] } };
    const { app } = buildApp({ file: file(`${strategy}.json`, doc), context: CDK_CONTEXT, outdir: join(tmp, `out-${strategy}`) });
    expect(() => app.synth()).not.toThrow();
  });

  test.each(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'])('%s: zero findings in an app without cdk.json\'s feature flags too (ARNs keep AWS::Partition)', strategy => {
    // GIVEN a consumer's app with none of the feature flags, only strict validation
    const doc = JSON.parse(readFileSync(join(ROOT, 'ddk.json'), 'utf-8'));
    doc.pipeline = { ...doc.pipeline, strategy };
    const context = { '@aws-cdk/core:validateAgainstDefaultRules': true };
    const { app } = buildApp({ file: file(`no-flags-${strategy}.json`, doc), context, outdir: join(tmp, `out-no-flags-${strategy}`) });
    // THEN every acknowledgement still matches its finding
    expect(() => app.synth()).not.toThrow();
  });

  test('a pipeline name a stack name cannot hold (my_app) still synthesizes, as the stack my-app-pipeline', () => {
    const doc = { ...SEED_DDK_JSON, pipeline: { name: 'my_app' } };
    const { app, stack } = buildApp({ file: file('underscore.json', doc), context: CDK_CONTEXT, outdir: join(tmp, 'out-underscore') });
    expect(stack.stackName).toBe('my-app-pipeline');
    expect(() => app.synth()).not.toThrow();
  });

  test('cdk-nag does check the application stacks (an insecure bucket fails synthesis)', () => {
    // GIVEN an application whose bucket allows plain HTTP and has no access logs
    const insecure = {
      createApplication(stage: Stage) {
        const stack = new Stack(stage, 'Insecure');
        new s3.Bucket(stack, 'Open', { enforceSSL: false });
      },
    };
    const { app } = buildApp({ file: file('insecure.json', SEED_DDK_JSON), context: CDK_CONTEXT, outdir: join(tmp, 'out-insecure'), application: insecure });
    // THEN synthesis reports the AwsSolutions findings
    expect(() => app.synth()).toThrow(/AwsSolutions-S10|AwsSolutions-S1/);
  });
});

describe('the app through the cdk CLI', () => {
  const cdk = join(ROOT, 'node_modules', '.bin', 'cdk');

  test('a bad ddk.json makes cdk synth exit non-zero with every problem and no stack trace', () => {
    const bad = file('bad.json', {
      environments: {
        cicd: { account: '111111111111', region: 'eu-west-1' },
        dev: { account: '22222222222', region: 'eu-west-1' },
      },
      pipeline: { stages: [{ name: 'dev', environments: ['dve'] }] },
    });
    const r = spawnSync(cdk, ['synth', '--quiet', '-c', `ddkConfig=${bad}`, '-o', join(tmp, 'out-bad')], { cwd: ROOT, encoding: 'utf-8', env: { ...process.env, CI: 'true' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${bad}: environments.dev.account: "22222222222" is not a 12-digit AWS account id`);
    expect(r.stderr).toContain(`${bad}: pipeline.stages[0].environments[0]: "dve" names an environment that does not exist (did you mean "dev"?)`);
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  }, 60_000);

  test('cdk synth of the example ddk.json succeeds with no credentials', () => {
    const env = { ...process.env, CI: 'true', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true' };
    const out = execFileSync(cdk, ['synth', '--quiet', '-o', join(tmp, 'out-cli')], { cwd: ROOT, encoding: 'utf-8', env, stdio: 'pipe' });
    expect(out).toContain('Successfully synthesized');
    expect(existsSync(join(tmp, 'out-cli', 'myapp-pipeline.template.json'))).toBe(true);
  }, 120_000);
});
