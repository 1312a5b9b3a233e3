import { Duration, Token } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { CodePipelineActionFactoryResult, ICodePipelineActionFactory, ProduceActionOptions, Step } from 'aws-cdk-lib/pipelines';
import type { GateParameters } from './shared';
import { isGateTimeoutMinutes, LIMITS, PATTERN_RE } from './shared';
import { CODEPIPELINE_LIMITS } from '../pipelines/limits';

/** The longest `#{namespace.variable}` a revision variable renders to (CodePipeline namespaces have at most 100 characters). */
const LONGEST_VARIABLE = `#{${'n'.repeat(100)}.${'v'.repeat(100)}}`;
const ACTION_NAME = new RegExp(CODEPIPELINE_LIMITS.actionNamePattern);

/** Props of a `GateStep`. */
export interface GateStepProps {
  /** The gate function (`StatusChecks.gateFunction`). */
  readonly gateFunction: lambda.IFunction;
  /** Name of the pipeline, as reports name it (the plan's name). */
  readonly pipelineName: string;
  /**
   * Name of the plan stage the gate guards. The gate function reads the stage's required
   * contexts from its own environment (`StatusChecks` writes every stage's `requiredChecks`
   * there) and run-time additions from its table: the action carries only the stage's name.
   */
  readonly stage: string;
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
 * action running the gate function with the pipeline and stage names, the execution's source
 * revision (`#{<source>.CommitId}`), execution id (`#{codepipeline.PipelineExecutionId}`) and
 * timeout as `UserParameters` (at most `GateStep.MAX_USER_PARAMETERS_LENGTH` characters, within
 * CodePipeline's 1,000 per configuration value). The stage's required contexts are read by the
 * function from its environment, so any number of them fits.
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
   * The most characters a gate's `UserParameters` can take once rendered: 100-character pipeline
   * and stage names, a revision variable with a 100-character namespace and variable name, the
   * longest timeout.
   */
  public static readonly MAX_USER_PARAMETERS_LENGTH: number = JSON.stringify({
    pipeline: 'p'.repeat(100), stage: 's'.repeat(100), revision: LONGEST_VARIABLE, executionId: '#{codepipeline.PipelineExecutionId}', timeoutMinutes: LIMITS.maxGateTimeoutMinutes,
  } satisfies GateParameters).length;

  /**
   * The Lambda invoke action of a gate, for a pipeline built with aws-codepipeline directly
   * (CDK Pipelines uses `GateStep`). `revision` is then the source action's
   * `variables.commitId`.
   *
   * @param props the gate
   * @param actionName name of the action in its stage (letters, digits and . @ _ -, at most 100)
   * @param runOrder run order of the action (1 to 999): lower than the stage's approval and deployments
   */
  public static action(props: GateStepProps, actionName: string, runOrder: number): cpa.LambdaInvokeAction {
    if (!ACTION_NAME.test(actionName)) {
      throw new Error(`GateStep: actionName: "${actionName}" is not a CodePipeline action name; expected letters, digits and . @ _ - (1 to 100 characters). Fix: pass e.g. "StatusChecks"`);
    }
    if (!Number.isInteger(runOrder) || runOrder < CODEPIPELINE_LIMITS.minRunOrder || runOrder > CODEPIPELINE_LIMITS.maxRunOrder) {
      throw new Error(`GateStep ${actionName}: runOrder: ${runOrder} is out of range; expected a whole number from ${CODEPIPELINE_LIMITS.minRunOrder} to ${CODEPIPELINE_LIMITS.maxRunOrder} (CodePipeline's limit). Fix: pass the run order before the stage's approval, e.g. 1`);
    }
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
    if (!isGateTimeoutMinutes(minutes)) {
      throw new Error(`${where}: timeout: ${timeout.toHumanString()} is out of range; expected whole minutes from 1 to ${LIMITS.maxGateTimeoutMinutes} (CodePipeline fails a Lambda invoke action after 24 hours, and the gate must report its own timeout first). Fix: pass e.g. Duration.hours(1)`);
    }
    const parameters: GateParameters = {
      pipeline: props.pipelineName,
      stage: props.stage,
      revision: props.revision,
      executionId: '#{codepipeline.PipelineExecutionId}',
      timeoutMinutes: minutes,
    };
    // measured as rendered: a revision still a token becomes a CodePipeline variable of at most LONGEST_VARIABLE
    const rendered = JSON.stringify({ ...parameters, revision: Token.isUnresolved(props.revision) ? LONGEST_VARIABLE : props.revision }).length;
    if (rendered > CODEPIPELINE_LIMITS.configurationValueLength) {
      throw new Error(`${where}: revision: the UserParameters would take ${rendered} characters, more than the ${CODEPIPELINE_LIMITS.configurationValueLength} CodePipeline allows per action configuration value. Fix: pass the source's commit id variable (source.sourceAttribute('CommitId') or the source action's variables.commitId), not a literal`);
    }
    return parameters;
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
