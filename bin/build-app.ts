import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DdkConfig, DeliveryPipelineStack, DeliveryPlan, IApplicationFactory, SampleApplication } from '../lib';

/** Options of `buildApp`. */
export interface BuildAppOptions extends AppProps {
  /**
   * The ddk.json to read.
   *
   * @default - the `ddkConfig` context value, else ./ddk.json
   */
  readonly file?: string;
  /**
   * The application deployed to every environment.
   *
   * @default SampleApplication
   */
  readonly application?: IApplicationFactory;
  /** Where warnings go. @default process.stderr */
  readonly warn?: (line: string) => void;
  /**
   * The environment the app reads `DDK_PIPELINE_NAME` and, in review builds, `DDK_REVIEW_*` from
   * (set in the pipeline's own builds; see `DeliveryPlan.optionsFromEnvironment`).
   *
   * @default process.env
   */
  readonly env?: { [name: string]: string | undefined };
}

/**
 * The default app: ddk.json → validated config → delivery plan → the CICD stack, checked
 * by cdk-nag's AwsSolutions pack (and aws-cdk-lib's CloudFormation validation, per cdk.json).
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: DeliveryPipelineStack; plan: DeliveryPlan } {
  const app = new App(options);
  const file = options.file ?? app.node.tryGetContext('ddkConfig') ?? 'ddk.json';
  const config = DdkConfig.fromFile(file);
  const warn = options.warn ?? ((line: string) => process.stderr.write(`[Warning] ${line}\n`));
  for (const w of config.warnings) warn(w);
  const plan = DeliveryPlan.fromConfig(config, DeliveryPlan.optionsFromEnvironment(options.env ?? process.env));
  if (plan.nameWarning) warn(plan.nameWarning);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new DeliveryPipelineStack(app, plan.cicdStackName, {
    plan,
    application: options.application ?? new SampleApplication(),
  });
  return { app, stack, plan };
}
