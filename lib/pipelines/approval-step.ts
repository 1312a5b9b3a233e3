import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { CodePipelineActionFactoryResult, ICodePipelineActionFactory, ProduceActionOptions, Step } from 'aws-cdk-lib/pipelines';
import { manualApprovalAction } from './shared';
import type { PlanApproval } from '../model/plan';

/** Props of an `ApprovalStep`. */
export interface ApprovalStepProps {
  /** The approval from the plan. */
  readonly approval: PlanApproval;
  /**
   * Topic notified when the approval waits.
   *
   * @default - no notification
   */
  readonly topic?: sns.ITopic;
}

/**
 * A manual approval in a CDK Pipelines wave, with what `ManualApprovalStep` lacks:
 * SNS notification, review URL and timeout.
 */
export class ApprovalStep extends Step implements ICodePipelineActionFactory {
  private readonly props: ApprovalStepProps;

  constructor(id: string, props: ApprovalStepProps) {
    super(id);
    this.props = props;
  }

  public produceAction(stage: codepipeline.IStage, options: ProduceActionOptions): CodePipelineActionFactoryResult {
    stage.addAction(manualApprovalAction(this.props.approval, options.actionName, options.runOrder, this.props.topic));
    return { runOrdersConsumed: 1 };
  }
}

