import { Stage, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentResources } from './environment-resources';
import type { EnvironmentConfig } from '../config/ddk-config';

/**
 * Builds the application for one environment.
 *
 * Called once per deployment target with the target's CDK Stage (account and region set) and
 * its configuration from ddk.json; it creates the application's stacks inside the stage.
 * Read per-environment construct props with `EnvironmentResources.of(scope).props(id)`.
 */
export interface IApplicationFactory {
  /**
   * Creates the application's stacks for one environment.
   *
   * @param stage the Stage to build the stacks in
   * @param environment the environment's configuration
   */
  createApplication(stage: Stage, environment: EnvironmentConfig): void;
}

/** Props of an `ApplicationStage`. */
export interface ApplicationStageProps {
  /** The environment deployed by this stage. */
  readonly environment: EnvironmentConfig;
  /** Builds the application's stacks. */
  readonly application: IApplicationFactory;
}

/**
 * The CDK Stage of one environment: account and region from ddk.json, the environment's tags
 * on every resource, its bootstrap qualifier, and its `resources` settings available to the
 * constructs built by the application factory.
 */
export class ApplicationStage extends Stage {
  /** The environment deployed by this stage. */
  public readonly environment: EnvironmentConfig;
  /** The environment's construct settings. */
  public readonly resources: EnvironmentResources;

  constructor(scope: Construct, id: string, props: ApplicationStageProps) {
    super(scope, id, { env: { account: props.environment.account, region: props.environment.region } });
    this.environment = props.environment;
    if (props.environment.bootstrapQualifier) {
      this.node.setContext('@aws-cdk/core:bootstrapQualifier', props.environment.bootstrapQualifier);
    }
    this.resources = EnvironmentResources.attach(this, props.environment);
    for (const [k, v] of Object.entries(props.environment.tags)) Tags.of(this).add(k, v);
    props.application.createApplication(this, props.environment);
  }
}
