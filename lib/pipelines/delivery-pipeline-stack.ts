import { CfnResource, Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IApplicationFactory } from './application-stage';
import { CdkPipelinesDelivery } from './cdk-pipelines';
import { CodePipelineDelivery } from './codepipeline-delivery';
import { pipelineLimitProblems } from './limits';
import { foldPseudoParameters, PseudoParameterValues, pseudoParameterValues } from './pseudo-parameters';
import { DeliveryPlan, PipelineStrategy } from '../model/plan';

/** Props of a `DeliveryPipelineStack`. */
export interface DeliveryPipelineStackProps extends StackProps {
  /** The delivery plan to render. */
  readonly plan: DeliveryPlan;
  /** Builds the application's stacks for each environment. */
  readonly application: IApplicationFactory;
  /**
   * Write the values of `AWS::Partition`, `AWS::Region`, `AWS::AccountId` and `AWS::URLSuffix`
   * into this stack's template (its account and region are always explicit), and fold the
   * `Fn::Join`/`Fn::Sub` that become plain strings. aws-cdk-lib/pipelines writes every
   * cross-account role ARN as an `Fn::Join` on `AWS::Partition`: folding makes the template
   * about a quarter smaller at 200 environments and its CloudFormation validation faster, and
   * CloudFormation deploys the same values. Only done when the region is in aws-cdk-lib's
   * region table.
   * @default true
   */
  readonly foldPseudoParameters?: boolean;
}

/**
 * The CICD stack: deployed into the `cicd` account and region of the plan, it holds the
 * delivery pipeline rendered with the plan's strategy.
 *
 * Construct ids (stable): `Delivery` (the renderer), under it `Artifacts`, `Repository`,
 * `CodePipeline`, `Pipeline`, and one stage per environment id.
 */
export class DeliveryPipelineStack extends Stack {
  /** The rendered delivery system (CdkPipelinesDelivery or CodePipelineDelivery, by strategy). */
  public readonly delivery: CdkPipelinesDelivery | CodePipelineDelivery;
  /** The ddk.json the plan was read from, for messages. */
  private readonly configFile: string;
  /** The values folded into this stack's template, if it folds pseudo parameters. */
  private readonly pseudoParameters?: PseudoParameterValues;

  constructor(scope: Construct, id: string, props: DeliveryPipelineStackProps) {
    super(scope, id, {
      description: `ddk-pipelines: delivery pipeline "${props.plan.name}" (${props.plan.strategy})`,
      ...props,
      env: { account: props.plan.cicd.account, region: props.plan.cicd.region },
    });
    if (props.foldPseudoParameters ?? true) this.pseudoParameters = pseudoParameterValues(this);
    for (const [k, v] of Object.entries(props.plan.cicd.environment.tags)) Tags.of(this).add(k, v);
    this.node.addValidation({ validate: () => this.checkCloudFormationLimits(props.plan) });
    this.configFile = props.plan.config.file;
    switch (props.plan.strategy) {
      case PipelineStrategy.CDK_PIPELINES:
        this.delivery = new CdkPipelinesDelivery(this, 'Delivery', { plan: props.plan, application: props.application });
        break;
      default:
        this.delivery = new CodePipelineDelivery(this, 'Delivery', { plan: props.plan, application: props.application });
    }
  }

  /**
   * The template, with pseudo parameters folded (see `foldPseudoParameters`).
   * @internal
   */
  protected _toCloudFormation(): any {
    const template = super._toCloudFormation();
    // Every rendered pipeline against CodePipeline's documented limits (names, stage and action
    // counts, configuration values), once, on the template as CloudFormation will receive it.
    const problems = Object.values<any>(template.Resources ?? {})
      .filter(r => r.Type === 'AWS::CodePipeline::Pipeline')
      .flatMap(r => pipelineLimitProblems(r.Properties ?? {}, this.configFile));
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return this.pseudoParameters ? foldPseudoParameters(template, this.pseudoParameters) : template;
  }

  /** CloudFormation's per-stack resource limit, checked before anything is written. */
  private checkCloudFormationLimits(plan: DeliveryPlan): string[] {
    const resources = this.node.findAll().filter(c => CfnResource.isCfnResource(c) && Stack.of(c) === this).length;
    if (resources <= CLOUDFORMATION_RESOURCES_PER_STACK) return [];
    const gitflow = plan.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW
      ? ' (codepipeline-gitflow creates one pipeline per stage: put environments that deploy together into one stage, or use codepipeline-trunk)'
      : '';
    const services = plan.services.length > 0 ? ` and services (each service has a pipeline of its own; ${plan.services.length} now)` : '';
    return [`${plan.config.file}: pipeline.stages: the CICD stack ${this.stackName} has ${resources} resources, more than the ${CLOUDFORMATION_RESOURCES_PER_STACK} a CloudFormation stack allows. Fix: use fewer stages${services}${gitflow}`];
  }
}

/** Resources in one CloudFormation stack. */
const CLOUDFORMATION_RESOURCES_PER_STACK = 500;
