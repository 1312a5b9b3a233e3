// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { CodePipelineClient, GetPipelineStateCommand, OverrideStageConditionCommand } from '@aws-sdk/client-codepipeline';

/*
 * What `POST /conditions/override` asks CodePipeline: whether an execution waits at a stage's
 * BeforeEntry condition (GetPipelineState), and the override itself (OverrideStageCondition).
 */

/** The parts of GetPipelineState's StageState the override reads. */
export interface EntryState {
  readonly stageName?: string;
  /** StageState.beforeEntryConditionState.latestExecution.status (ConditionExecutionStatus). */
  readonly beforeEntryStatus?: string;
  /** Executions the stage names: latestExecution, inboundExecution and inboundExecutions. */
  readonly executions: readonly StageExecutionRef[];
}

/** An execution in a StageState. */
export interface StageExecutionRef {
  readonly pipelineExecutionId: string;
  readonly status?: string;
  /** Which field named it. */
  readonly field: 'latestExecution' | 'inboundExecution' | 'inboundExecutions';
}

/** CodePipeline's side of a condition override. */
export interface PipelineConditions {
  /** The stage's state; undefined when the pipeline has no such stage. */
  entryState(pipeline: string, stage: string): Promise<EntryState | undefined>;
  /** OverrideStageCondition with conditionType BEFORE_ENTRY. */
  overrideBeforeEntry(pipeline: string, stage: string, executionId: string): Promise<void>;
}

/**
 * Whether `executionId` waits at the stage's BeforeEntry condition: the condition's latest run is
 * `InProgress` and the stage names the execution (CodePipeline's StageConditionsExecution carries
 * no execution id, so the stage's latestExecution and inbound executions are what tie them).
 *
 * @returns undefined when it waits, else why not
 */
export function notWaiting(state: EntryState, executionId: string): string | undefined {
  if (state.beforeEntryStatus !== 'InProgress') {
    return `its entry condition (the deployment windows) is ${state.beforeEntryStatus ?? 'not running'}, not InProgress`;
  }
  if (!state.executions.some(e => e.pipelineExecutionId === executionId)) {
    const seen = state.executions.map(e => `${e.pipelineExecutionId} (${e.field}${e.status ? `, ${e.status}` : ''})`);
    return `its entry condition is InProgress, but for ${seen.length > 0 ? seen.join(', ') : 'no execution GetPipelineState names'}, not ${executionId}`;
  }
  return undefined;
}

/** The SDK implementation of PipelineConditions. */
export class CodePipelineConditions implements PipelineConditions {
  constructor(private readonly client: CodePipelineClient) {}

  public async entryState(pipeline: string, stage: string): Promise<EntryState | undefined> {
    const out = await this.client.send(new GetPipelineStateCommand({ name: pipeline }));
    const st = (out.stageStates ?? []).find(s => s.stageName === stage);
    if (!st) return undefined;
    const executions: StageExecutionRef[] = [];
    const add = (e: { pipelineExecutionId?: string; status?: string } | undefined, field: StageExecutionRef['field']) => {
      if (e?.pipelineExecutionId) executions.push({ pipelineExecutionId: e.pipelineExecutionId, field, ...(e.status ? { status: e.status } : {}) });
    };
    add(st.latestExecution, 'latestExecution');
    add(st.inboundExecution, 'inboundExecution');
    for (const e of st.inboundExecutions ?? []) add(e, 'inboundExecutions');
    return { stageName: st.stageName, beforeEntryStatus: st.beforeEntryConditionState?.latestExecution?.status, executions };
  }

  public async overrideBeforeEntry(pipeline: string, stage: string, executionId: string): Promise<void> {
    await this.client.send(new OverrideStageConditionCommand({
      pipelineName: pipeline, stageName: stage, pipelineExecutionId: executionId, conditionType: 'BEFORE_ENTRY',
    }));
  }
}
