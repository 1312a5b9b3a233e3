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
  /**
   * The variables namespace of the stage's change review: the approval then shows its summary
   * in the comment and links to its report (the stage's review URL moves into the comment).
   *
   * @default - no change review
   */
  readonly changeReviewNamespace?: string;
}

/**
 * A manual approval in a CDK Pipelines wave, with what `ManualApprovalStep` lacks:
 * SNS notification, review URL, timeout and the stage's change review (summary and report link).
 */
export class ApprovalStep extends Step implements ICodePipelineActionFactory {
  private readonly props: ApprovalStepProps;

  constructor(id: string, props: ApprovalStepProps) {
    super(id);
    this.props = props;
  }

  public produceAction(stage: codepipeline.IStage, options: ProduceActionOptions): CodePipelineActionFactoryResult {
    const { approval, topic, changeReviewNamespace } = this.props;
    stage.addAction(manualApprovalAction(approval, options.actionName, options.runOrder, topic, changeReviewNamespace));
    return { runOrdersConsumed: 1 };
  }
}

