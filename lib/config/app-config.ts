import { IConstruct } from 'constructs';
import { DdkConfig } from './ddk-config';

/**
 * Reads `ddk.json` in your own CDK app the way the default app does: the file named by the
 * `ddkConfig` context value (`cdk synth -c ddkConfig=path/to/ddk.json`, or `"context"` in
 * cdk.json), else `ddk.json` in the working directory (the CDK CLI runs the app in the folder
 * holding cdk.json).
 *
 * ```ts
 * const app = new App();
 * const plan = DeliveryPlan.fromConfig(DdkAppConfig.load(app));
 * new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application });
 * ```
 */
export class DdkAppConfig {
  /** The context key that names the file: `cdk synth -c ddkConfig=<path>`. */
  public static readonly CONTEXT_KEY = 'ddkConfig';
  /** The file read when the context names none. */
  public static readonly DEFAULT_FILE = 'ddk.json';

  /**
   * The path of the ddk.json the app reads: the `ddkConfig` context value, else `ddk.json`.
   *
   * @param scope the App, or any construct in it (context is inherited)
   * @throws when the context value is not a non-empty string
   */
  public static fileOf(scope: IConstruct): string {
    const value: unknown = scope.node.tryGetContext(DdkAppConfig.CONTEXT_KEY);
    if (value === undefined) return DdkAppConfig.DEFAULT_FILE;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(`context value "${DdkAppConfig.CONTEXT_KEY}": ${JSON.stringify(value)} is not a file path; `
        + `expected the path of a ddk.json file. Fix: pass -c ${DdkAppConfig.CONTEXT_KEY}=path/to/ddk.json, `
        + `or set "context": {"${DdkAppConfig.CONTEXT_KEY}": "path/to/ddk.json"} in cdk.json, or drop it to read ./${DdkAppConfig.DEFAULT_FILE}`);
    }
    return value;
  }

  /**
   * Reads and validates the ddk.json named by `fileOf(scope)`. Its warnings (keys the library
   * does not use, environments in no stage) are written to standard error, one line each,
   * as the default app does; they are also in the result's `warnings`.
   *
   * @param scope the App, or any construct in it
   * @throws when the context value is not a path, or the file is missing or invalid (every
   * problem listed with its JSON path and a fix)
   */
  public static load(scope: IConstruct): DdkConfig {
    const config = DdkConfig.fromFile(DdkAppConfig.fileOf(scope));
    for (const w of config.warnings) process.stderr.write(`[Warning] ${w}\n`);
    return config;
  }

  private constructor() {}
}
