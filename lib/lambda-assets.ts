import { existsSync } from 'fs';
import { join } from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The pre-bundled code of handler `name` (lambda/<name>/index.ts, bundled by `npx projen bundle`
 * into dist/lambda/<name>/index.js). Works from lib/ (tests, ts-node) and from dist/ (the package).
 *
 * @internal
 */
export function handlerCode(name: string): lambda.Code {
  // this module is lib/lambda-assets.ts in the repository and dist/lambda-assets.js in the package
  const path = join(__dirname, '..', 'dist', 'lambda', name);
  if (!existsSync(join(path, 'index.js'))) {
    throw new Error(`ddk-pipelines: the bundled handler ${join(path, 'index.js')} is missing. Fix: run \`npx projen bundle\` (cdk.json's build command does it before \`cdk synth\`)`);
  }
  return lambda.Code.fromAsset(path);
}
