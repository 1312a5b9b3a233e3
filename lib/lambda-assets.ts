import { existsSync } from 'fs';
import { join } from 'path';
import { Duration, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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

/**
 * Props of `bundledFunction`.
 *
 * @internal
 */
export interface BundledFunctionProps {
  /** The handler's folder under lambda/ (its bundle under dist/lambda/). */
  readonly handler: string;
  /** The function's description (at most 256 characters). */
  readonly description: string;
  /** Its role; the function may write to `logGroup` through it. */
  readonly role: iam.IRole;
  /** Its log group. */
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
  readonly memorySize: number;
  /**
   * Its environment variables.
   *
   * @default - none
   */
  readonly environment?: { [name: string]: string };
}

/**
 * A Node.js 22 function on ARM64 running a pre-bundled handler (`handlerCode`), writing to its
 * own log group through its own role. The runtime is the one the handlers are bundled and tested
 * for, which cdk-nag's "latest runtime" rule (AwsSolutions-L1) is told, with that reason.
 *
 * @internal
 */
export function bundledFunction(scope: Construct, id: string, props: BundledFunctionProps): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    description: props.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: handlerCode(props.handler),
    role: props.role,
    logGroup: props.logGroup,
    timeout: props.timeout,
    memorySize: props.memorySize,
    environment: props.environment,
  });
  props.logGroup.grantWrite(props.role);
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'Node.js 22 is the runtime the handlers are bundled and tested for (esbuild target node22) and a supported Lambda LTS runtime; moving to a newer one is a deliberate change of bundle target and tests, not a silent upgrade.',
  });
  return fn;
}
