import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ROOT, SEED_DDK_JSON } from '../helpers';

/*
 * The constructs are used from the package entry point by another CDK app: a plain JavaScript
 * app in its own folder requires 'ddk-pipelines' (package.json "main", the jsii build in dist/).
 */
test('another CDK app imports the constructs from the package entry point', () => {
  expect(existsSync(join(ROOT, 'dist', 'index.js'))).toBe(true); // `npm test` compiles first
  const dir = mkdtempSync(join(tmpdir(), 'ddk-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'ddk-pipelines'));
  for (const dep of ['aws-cdk-lib', 'constructs']) symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
  writeFileSync(join(dir, 'ddk.json'), JSON.stringify(SEED_DDK_JSON));
  writeFileSync(join(dir, 'app.js'), `
    const { App, Stack } = require('aws-cdk-lib');
    const s3 = require('aws-cdk-lib/aws-s3');
    const ddk = require('ddk-pipelines');
    const app = new App({ outdir: 'cdk.out' });
    const plan = ddk.DeliveryPlan.fromConfig(ddk.DdkConfig.fromFile('ddk.json'));
    new ddk.DeliveryPipelineStack(app, 'consumer-pipeline', {
      plan,
      application: {
        createApplication(stage, environment) {
          const stack = new Stack(stage, 'Consumer');
          new s3.Bucket(stack, 'ddk-bucket', { enforceSSL: true, ...ddk.EnvironmentResources.of(stack).props('ddk-bucket') });
        },
      },
    });
    app.synth();
  `);
  execFileSync(process.execPath, ['app.js'], { cwd: dir, stdio: 'pipe' });
  const out = join(dir, 'cdk.out');
  expect(readdirSync(out)).toEqual(expect.arrayContaining(['consumer-pipeline.template.json', 'assembly-consumer-pipeline-Delivery-dev']));
  const devDir = join(out, 'assembly-consumer-pipeline-Delivery-dev');
  const devTemplate = readdirSync(devDir).find(f => f.endsWith('.template.json'))!;
  const dev = JSON.parse(readFileSync(join(devDir, devTemplate), 'utf-8'));
  const bucket: any = Object.values(dev.Resources).find((r: any) => r.Type === 'AWS::S3::Bucket');
  expect(bucket.DeletionPolicy).toBe('Delete');
}, 120_000);
