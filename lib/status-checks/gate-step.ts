import { Duration } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { CodePipelineActionFactoryResult, ICodePipelineActionFactory, ProduceActionOptions, Step } from 'aws-cdk-lib/pipelines';
import type { GateParameters } from './shared';
import { isGateTimeoutMinutes, LIMITS, PATTERN_RE } from './shared';

/** Props of a `GateStep`. */
export interface GateStepProps {
  /** The gate function (`StatusChecks.gateFunction`). */
  readonly gateFunction: lambda.IFunction;
  /** Name of the pipeline, as reports name it (the plan's name). */
  readonly pipelineName: string;
  /** Name of the plan stage the gate guards. */
  readonly stage: string;
  /** Contexts ddk.json requires for the stage (run-time additions come from the table). */
  readonly requiredChecks: string[];
  /**
   * The source revision of the execution, as a CodePipeline variable: the pipeline source's
   * `sourceAttribute('CommitId')` (CDK Pipelines gives the source action a namespace for it).
   */
  readonly revision: string;
  /**
   * How long the gate waits for pending checks or an override before it fails the stage.
   *
   * At most 23.5 hours: CodePipeline fails a Lambda invoke action after 24 hours.
   *
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * The role the pipeline assumes to run the action (`StatusChecks.gateActionRole`).
   *
   * @default - aws-cdk-lib creates one per action
   */
  readonly actionRole?: iam.IRole;
}

/**
 * The status-check gate of one stage in a CDK Pipelines wave: a CodePipeline Lambda invoke
 * action running the gate function with the stage's required contexts, the execution's source
 * revision (`#{<source>.CommitId}`) and execution id (`#{codepipeline.PipelineExecutionId}`).
 *
 * The function answers with a continuation token while checks are pending (CodePipeline invokes
 * it again), succeeds when every required context is `success` (or `error` and overridden), and
 * fails the stage on a `failure`, on timeout, or when it cannot read its table.
 *
 * Put it first in the wave's `pre` steps, before any manual approval
 * (`Step.sequence([gate, approval])`), so nobody approves a change whose checks have not passed.
 */
export class GateStep extends Step implements ICodePipelineActionFactory {
  /**
   * The Lambda invoke action of a gate, for a pipeline built with aws-codepipeline directly
   * (CDK Pipelines uses `GateStep`). `revision` is then the source action's
   * `variables.commitId`.
   *
   * @param props the gate
   * @param actionName name of the action in its stage
   * @param runOrder run order of the action: lower than the stage's approval and deployments
   */
  public static action(props: GateStepProps, actionName: string, runOrder: number): cpa.LambdaInvokeAction {
    return new cpa.LambdaInvokeAction({
      actionName,
      runOrder,
      lambda: props.gateFunction,
      role: props.actionRole,
      userParameters: GateStep.parametersOf(props, actionName),
    });
  }

  /** Validates the props and builds the UserParameters. */
  private static parametersOf(props: GateStepProps, id: string): GateParameters {
    const timeout = props.timeout ?? Duration.hours(1);
    const minutes = timeout.toMinutes({ integral: false });
    const where = `GateStep ${id}`;
    if (!PATTERN_RE.name.test(props.stage)) {
      throw new Error(`${where}: stage: "${props.stage}" is not a stage name; expected letters, digits and . @ _ - (1 to 100 characters). Fix: pass the plan stage's name`);
    }
    if (!PATTERN_RE.name.test(props.pipelineName)) {
      throw new Error(`${where}: pipelineName: "${props.pipelineName}" is not a pipeline name; expected letters, digits and . @ _ - (1 to 100 characters). Fix: pass the plan's name`);
    }
    for (const c of props.requiredChecks) {
      if (!PATTERN_RE.context.test(c)) {
        throw new Error(`${where}: requiredChecks: "${c}" is not a status-check context; expected "system/name" such as "ci/integration". Fix: name the check as system/name`);
      }
    }
    if (!isGateTimeoutMinutes(minutes)) {
      throw new Error(`${where}: timeout: ${timeout.toHumanString()} is out of range; expected whole minutes from 1 to ${LIMITS.maxGateTimeoutMinutes} (CodePipeline fails a Lambda invoke action after 24 hours, and the gate must report its own timeout first). Fix: pass e.g. Duration.hours(1)`);
    }
    return {
      pipeline: props.pipelineName,
      stage: props.stage,
      revision: props.revision,
      executionId: '#{codepipeline.PipelineExecutionId}',
      requiredChecks: [...props.requiredChecks],
      timeoutMinutes: minutes,
    };
  }

  /** The UserParameters the action passes, with CodePipeline variables unresolved. */
  public readonly userParameters: { [key: string]: any };
  private readonly props: GateStepProps;

  constructor(id: string, props: GateStepProps) {
    super(id);
    this.props = props;
    this.userParameters = GateStep.parametersOf(props, id);
    // the revision is a step output of the source: CDK Pipelines then gives the source a namespace
    this.discoverReferencedOutputs(this.userParameters);
  }

  /** Adds the Lambda invoke action to the stage. */
  public produceAction(stage: codepipeline.IStage, options: ProduceActionOptions): CodePipelineActionFactoryResult {
    stage.addAction(GateStep.action(this.props, options.actionName, options.runOrder));
    return { runOrdersConsumed: 1 };
  }
}
