import { asArray, resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * CodePipeline's documented contract for a pipeline declaration, from
 * - "Quotas in AWS CodePipeline" (userguide/limits.html): 2–50 stages, 1–50 actions per stage,
 *   names of pipelines, stages and actions ≤ 100 characters of [A-Za-z0-9.@_-], artifact names
 *   ≤ 100 characters of [A-Za-z0-9_-], configuration keys ≤ 50 and values ≤ 1,000 characters,
 *   100 KB of resolved configuration per action;
 * - "CodePipeline pipeline structure reference": source actions only and always in the first
 *   stage, unique names, output artifacts unique in the pipeline, inputs produced by an earlier
 *   action, run orders positive, input/output artifact counts per action type;
 * - the action structure references (CodeBuild, Lambda, CodeCommit, CodeStarSourceConnection,
 *   CloudFormation, Manual approval): required configuration properties;
 * - the API reference (ActionDeclaration, PipelineTriggerDeclaration, GitConfiguration,
 *   GitBranchFilterCriteria): run order 1–999, namespace pattern, manual-approval timeout
 *   5–86,400 minutes, triggers only for CodeStarSourceConnection sources, 1–3 push/pull filters,
 *   1–8 patterns of 1–255 characters, pull request filter events 1–3 of OPEN, UPDATED, CLOSED;
 * - "Working with variables": `#{namespace.variable}` names a namespace an earlier action declares
 *   (or `codepipeline`, `variables`).
 */

/** CodePipeline's documented limits. */
export const CODEPIPELINE = {
  stagesMin: 2,
  stagesMax: 50,
  actionsPerStageMax: 50,
  nameMax: 100,
  configurationKeyMax: 50,
  configurationValueMax: 1000,
  resolvedConfigurationBytesMax: 100 * 1024,
  runOrderMax: 999,
  approvalTimeoutMin: 5,
  approvalTimeoutMax: 86400,
  filtersPerTriggerMax: 3,
  patternsPerFilterMax: 8,
  patternLengthMax: 255,
  triggersMax: 50,
} as const;

const NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const ARTIFACT_NAME = /^[A-Za-z0-9_-]{1,100}$/;
const NAMESPACE = /^[A-Za-z0-9@_-]{1,100}$/;
const CATEGORIES = ['Source', 'Build', 'Test', 'Deploy', 'Approval', 'Invoke', 'Compute'];

interface ActionContract {
  readonly inputs: [number, number];
  readonly outputs: [number, number];
  readonly required: string[];
  /** Properties required by the values of others. */
  readonly conditional?: (config: Record<string, unknown>) => string[];
}

const CODEBUILD: ActionContract = { inputs: [1, 5], outputs: [0, 5], required: ['ProjectName'] };

/** The action types the contract knows, by `Category/Owner/Provider`. */
export const ACTION_CONTRACTS: Record<string, ActionContract> = {
  'Source/AWS/CodeCommit': { inputs: [0, 0], outputs: [1, 1], required: ['RepositoryName', 'BranchName'] },
  'Source/AWS/CodeStarSourceConnection': { inputs: [0, 0], outputs: [1, 1], required: ['ConnectionArn', 'FullRepositoryId', 'BranchName'] },
  'Source/AWS/S3': { inputs: [0, 0], outputs: [1, 1], required: ['S3Bucket', 'S3ObjectKey'] },
  'Build/AWS/CodeBuild': CODEBUILD,
  'Test/AWS/CodeBuild': CODEBUILD,
  'Invoke/AWS/Lambda': { inputs: [0, 5], outputs: [0, 5], required: ['FunctionName'] },
  'Approval/AWS/Manual': { inputs: [0, 0], outputs: [0, 0], required: [] },
  'Deploy/AWS/CloudFormation': {
    inputs: [0, 10],
    outputs: [0, 1],
    required: ['ActionMode', 'StackName'],
    conditional: config => {
      const mode = String(config.ActionMode ?? '');
      return [
        ...(['CHANGE_SET_REPLACE', 'CHANGE_SET_EXECUTE'].includes(mode) ? ['ChangeSetName'] : []),
        ...(['CREATE_UPDATE', 'REPLACE_ON_FAILURE', 'CHANGE_SET_REPLACE'].includes(mode) ? ['TemplatePath'] : []),
        ...(['CREATE_UPDATE', 'REPLACE_ON_FAILURE', 'DELETE_ONLY', 'CHANGE_SET_REPLACE'].includes(mode) ? ['RoleArn'] : []),
      ];
    },
  },
  'Deploy/AWS/S3': { inputs: [1, 1], outputs: [0, 0], required: ['BucketName', 'Extract'] },
};

/** GitPullRequestFilter.events' valid values. */
const PULL_REQUEST_EVENTS = ['OPEN', 'UPDATED', 'CLOSED'];
const CFN_ACTION_MODES = ['CHANGE_SET_EXECUTE', 'CHANGE_SET_REPLACE', 'CREATE_UPDATE', 'DELETE_ONLY', 'REPLACE_ON_FAILURE'];
const CODEBUILD_VARIABLE_TYPES = ['PLAINTEXT', 'PARAMETER_STORE', 'SECRETS_MANAGER'];

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** Every CodePipeline pipeline of a template, held against CodePipeline's documented contract. */
export function checkCodePipeline(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) checkPipeline(p.logicalId, p.properties, resolver, sink);
  return sink.findings;
}

function checkPipeline(id: string, props: any, resolver: Resolver, sink: FindingSink): void {
  const add = (contract: string, where: string, message: string) => sink.add(`codepipeline.${contract}`, `${id}.${where}`, message);
  const name = resolver.string(props.Name);
  if (props.Name !== undefined && (name === undefined || !NAME.test(name))) {
    add('name', 'Name', `pipeline name ${show(name ?? props.Name)} is not 1–100 characters of A-Z a-z 0-9 . @ - _`);
  }
  const type = props.PipelineType ?? 'V1';
  if (!['V1', 'V2'].includes(type)) add('pipeline-type', 'PipelineType', `${show(type)} is not V1 or V2`);
  const mode = props.ExecutionMode ?? 'SUPERSEDED';
  if (!['QUEUED', 'SUPERSEDED', 'PARALLEL'].includes(mode)) add('execution-mode', 'ExecutionMode', `${show(mode)} is not QUEUED, SUPERSEDED or PARALLEL`);
  if (mode !== 'SUPERSEDED' && type !== 'V2') add('execution-mode', 'ExecutionMode', `${mode} needs pipeline type V2 (got ${type})`);

  const stages: any[] = asArray(props.Stages);
  if (stages.length < CODEPIPELINE.stagesMin || stages.length > CODEPIPELINE.stagesMax) {
    add('stage-count', 'Stages', `${stages.length} stages; CodePipeline allows ${CODEPIPELINE.stagesMin} to ${CODEPIPELINE.stagesMax}`);
  }
  checkArtifactStores(props, stages, resolver, add);

  const stageNames = new Set<string>();
  const outputs = new Map<string, string>();
  /** Namespaces declared by actions that have run before the current run-order group. */
  const namespacesBefore = new Set<string>();
  const sources = new Map<string, string>();
  stages.forEach((stage, si) => {
    const at = `Stages[${si}]`;
    const stageName = resolver.string(stage.Name);
    if (stageName === undefined || !NAME.test(stageName)) add('name', `${at}.Name`, `stage name ${show(stageName ?? stage.Name)} is not 1–100 characters of A-Z a-z 0-9 . @ - _`);
    else if (stageNames.has(stageName)) add('unique-names', `${at}.Name`, `stage name "${stageName}" is used twice in the pipeline`);
    if (stageName) stageNames.add(stageName);
    const actions: any[] = asArray(stage.Actions);
    if (actions.length < 1 || actions.length > CODEPIPELINE.actionsPerStageMax) {
      add('actions-per-stage', `${at}.Actions`, `stage "${stageName}" has ${actions.length} actions; CodePipeline allows 1 to ${CODEPIPELINE.actionsPerStageMax}`);
    }
    if (stage.OnFailure !== undefined) {
      if (type !== 'V2') add('stage-conditions', `${at}.OnFailure`, 'stage OnFailure needs pipeline type V2');
      if (stage.OnFailure.Result === 'ROLLBACK' && mode === 'PARALLEL') add('stage-conditions', `${at}.OnFailure`, 'ROLLBACK on failure is not available in PARALLEL execution mode');
    }
    const actionNames = new Set<string>();
    const groups = [...new Set(actions.map(a => runOrderOf(a)))].sort((a, b) => a - b);
    for (const order of groups) {
      const declaredHere: string[] = [];
      actions.forEach((a, ai) => {
        if (runOrderOf(a) !== order) return;
        const where = `${at}.Actions[${ai}]`;
        const actionName = resolver.string(a.Name);
        if (actionName === undefined || !NAME.test(actionName)) add('name', `${where}.Name`, `action name ${show(actionName ?? a.Name)} is not 1–100 characters of A-Z a-z 0-9 . @ - _`);
        else if (actionNames.has(actionName)) add('unique-names', `${where}.Name`, `action name "${actionName}" is used twice in stage "${stageName}"`);
        if (actionName) actionNames.add(actionName);
        const label = `action "${actionName ?? '?'}" of stage "${stageName ?? '?'}"`;
        checkAction(a, where, label, si, resolver, add, outputs, namespacesBefore, sources);
        if (typeof a.Namespace === 'string') declaredHere.push(a.Namespace);
      });
      for (const ns of declaredHere) namespacesBefore.add(ns);
    }
  });
  checkTriggers(props, type, sources, add);
}

function runOrderOf(a: any): number {
  return typeof a.RunOrder === 'number' ? a.RunOrder : 1;
}

function checkAction(
  a: any, where: string, label: string, stageIndex: number, resolver: Resolver,
  add: (contract: string, where: string, message: string) => void,
  outputs: Map<string, string>, namespacesBefore: Set<string>, sources: Map<string, string>,
): void {
  const t = a.ActionTypeId ?? {};
  const key = `${t.Category}/${t.Owner}/${t.Provider}`;
  if (!CATEGORIES.includes(t.Category)) add('action-type', `${where}.ActionTypeId`, `${label}: category ${show(t.Category)} is not one of ${CATEGORIES.join(', ')}`);
  if (!['AWS', 'ThirdParty', 'Custom'].includes(t.Owner)) add('action-type', `${where}.ActionTypeId`, `${label}: owner ${show(t.Owner)} is not AWS, ThirdParty or Custom`);
  if (typeof t.Version !== 'string' || t.Version === '') add('action-type', `${where}.ActionTypeId`, `${label}: has no version`);
  if (t.Category === 'Source' && stageIndex !== 0) add('source-stage', where, `${label}: source actions belong in the first stage only`);
  if (t.Category !== 'Source' && stageIndex === 0) add('source-stage', where, `${label}: the first stage may hold source actions only`);
  if (t.Category === 'Source') {
    if (a.Region !== undefined) add('source-stage', `${where}.Region`, `${label}: source actions cannot be cross-Region`);
    const n = resolver.string(a.Name);
    if (n) sources.set(n, t.Provider);
  }

  const order = a.RunOrder;
  if (order !== undefined && (!Number.isInteger(order) || order < 1 || order > CODEPIPELINE.runOrderMax)) {
    add('run-order', `${where}.RunOrder`, `${label}: run order ${show(order)} is not a whole number from 1 to ${CODEPIPELINE.runOrderMax}`);
  }
  if (a.Namespace !== undefined && (typeof a.Namespace !== 'string' || !NAMESPACE.test(a.Namespace))) {
    add('namespace', `${where}.Namespace`, `${label}: namespace ${show(a.Namespace)} is not 1–100 characters of A-Z a-z 0-9 @ - _`);
  }
  if (a.TimeoutInMinutes !== undefined) {
    const minutes = a.TimeoutInMinutes;
    const inRange = Number.isInteger(minutes) && minutes >= CODEPIPELINE.approvalTimeoutMin && minutes <= CODEPIPELINE.approvalTimeoutMax;
    if (key !== 'Approval/AWS/Manual') {
      add('timeout', `${where}.TimeoutInMinutes`, `${label}: TimeoutInMinutes applies to manual approval actions only`);
    } else if (!inRange) {
      add('timeout', `${where}.TimeoutInMinutes`, `${label}: ${show(minutes)} minutes is outside ${CODEPIPELINE.approvalTimeoutMin}–${CODEPIPELINE.approvalTimeoutMax}`);
    }
  }

  const inputs: any[] = asArray(a.InputArtifacts);
  const outs: any[] = asArray(a.OutputArtifacts);
  for (const [i, art] of inputs.entries()) {
    const n = art?.Name;
    if (typeof n !== 'string' || !ARTIFACT_NAME.test(n)) add('artifact-name', `${where}.InputArtifacts[${i}]`, `${label}: artifact name ${show(n)} is not 1–100 characters of A-Z a-z 0-9 - _`);
    else if (!outputs.has(n)) add('artifact-flow', `${where}.InputArtifacts[${i}]`, `${label}: input artifact "${n}" is not the output of an earlier action`);
  }
  for (const [i, art] of outs.entries()) {
    const n = art?.Name;
    if (typeof n !== 'string' || !ARTIFACT_NAME.test(n)) add('artifact-name', `${where}.OutputArtifacts[${i}]`, `${label}: artifact name ${show(n)} is not 1–100 characters of A-Z a-z 0-9 - _`);
    else if (outputs.has(n)) add('artifact-flow', `${where}.OutputArtifacts[${i}]`, `${label}: output artifact "${n}" is also the output of ${outputs.get(n)}; output artifact names are unique in a pipeline`);
    else outputs.set(n, label);
  }

  const config: Record<string, unknown> = a.Configuration ?? {};
  const contract = ACTION_CONTRACTS[key];
  if (!contract) {
    add('action-type', `${where}.ActionTypeId`, `${label}: ${key} is not an action type this contract knows; add its documented configuration and artifact counts to ACTION_CONTRACTS`);
  } else {
    const [inMin, inMax] = contract.inputs;
    const [outMin, outMax] = contract.outputs;
    if (inputs.length < inMin || inputs.length > inMax) add('artifact-count', `${where}.InputArtifacts`, `${label}: ${inputs.length} input artifacts; ${key} takes ${inMin} to ${inMax}`);
    if (outs.length < outMin || outs.length > outMax) add('artifact-count', `${where}.OutputArtifacts`, `${label}: ${outs.length} output artifacts; ${key} produces ${outMin} to ${outMax}`);
    for (const k of [...contract.required, ...(contract.conditional?.(config) ?? [])]) {
      if (config[k] === undefined) add('required-configuration', `${where}.Configuration`, `${label}: ${key} requires the configuration property ${k}`);
    }
  }
  if (key === 'Deploy/AWS/CloudFormation' && config.ActionMode !== undefined && !CFN_ACTION_MODES.includes(String(config.ActionMode))) {
    add('configuration-value', `${where}.Configuration.ActionMode`, `${label}: ${show(config.ActionMode)} is not one of ${CFN_ACTION_MODES.join(', ')}`);
  }

  let resolvedBytes = 0;
  for (const [k, v] of Object.entries(config)) {
    if (k.length < 1 || k.length > CODEPIPELINE.configurationKeyMax) {
      add('configuration-key-length', `${where}.Configuration.${k}`, `${label}: configuration key of ${k.length} characters; CodePipeline allows 1 to ${CODEPIPELINE.configurationKeyMax}`);
    }
    const value = resolver.string(v) ?? JSON.stringify(resolver.resolveLoosely(v));
    resolvedBytes += Buffer.byteLength(value);
    if (value.length < 1 || value.length > CODEPIPELINE.configurationValueMax) {
      add('configuration-value-length', `${where}.Configuration.${k}`,
        `${label}: configuration value ${k} has ${value.length} characters; CodePipeline allows 1 to ${CODEPIPELINE.configurationValueMax} per value (${show(value, 80)})`);
    }
    for (const m of value.matchAll(/#\{([^}]*)\}/g)) {
      const ref = m[1];
      const dot = ref.indexOf('.');
      const ns = dot < 0 ? '' : ref.slice(0, dot);
      if (dot < 1 || dot === ref.length - 1) {
        add('variables', `${where}.Configuration.${k}`, `${label}: ${m[0]} is not a #{namespace.variable} reference`);
      } else if (ns !== 'codepipeline' && ns !== 'variables' && !namespacesBefore.has(ns)) {
        add('variables', `${where}.Configuration.${k}`, `${label}: ${m[0]} names namespace "${ns}", which no earlier action declares`);
      }
    }
  }
  if (resolvedBytes > CODEPIPELINE.resolvedConfigurationBytesMax) {
    add('configuration-size', `${where}.Configuration`, `${label}: ${resolvedBytes} bytes of configuration; CodePipeline allows ${CODEPIPELINE.resolvedConfigurationBytesMax}`);
  }
  if (t.Provider === 'CodeBuild' && config.EnvironmentVariables !== undefined) {
    const text = resolver.string(config.EnvironmentVariables);
    let parsed: unknown;
    try {
      parsed = text === undefined ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const ok = Array.isArray(parsed) && parsed.every((e: any) => typeof e?.name === 'string' && e.name !== '' && typeof e?.value === 'string'
      && (e.type === undefined || CODEBUILD_VARIABLE_TYPES.includes(e.type)));
    if (!ok) add('configuration-value', `${where}.Configuration.EnvironmentVariables`, `${label}: EnvironmentVariables is not a JSON array of {name, value, type} with type ${CODEBUILD_VARIABLE_TYPES.join('/')} (${show(text ?? config.EnvironmentVariables, 80)})`);
  }
}

function checkArtifactStores(props: any, stages: any[], resolver: Resolver, add: (c: string, w: string, m: string) => void): void {
  const single = props.ArtifactStore !== undefined;
  const multi: any[] = asArray(props.ArtifactStores);
  if (single === (multi.length > 0)) {
    add('artifact-store', 'ArtifactStore', 'a pipeline declares exactly one of ArtifactStore and ArtifactStores');
    return;
  }
  const regions = stages.flatMap(s => asArray<any>(s.Actions)).map(a => a.Region).filter((r): r is string => typeof r === 'string');
  if (single) {
    const foreign = regions.filter(r => r !== resolver.stack.region);
    if (foreign.length > 0) add('artifact-store', 'ArtifactStore', `actions run in ${[...new Set(foreign)].join(', ')}: a cross-Region pipeline needs ArtifactStores with one store per Region`);
    return;
  }
  const stores = new Set(multi.map(s => s.Region));
  for (const r of new Set([resolver.stack.region, ...regions])) {
    if (!stores.has(r)) add('artifact-store', 'ArtifactStores', `no artifact store for ${r}, where ${r === resolver.stack.region ? 'the pipeline is' : 'actions run'}`);
  }
}

function checkTriggers(props: any, type: string, sources: Map<string, string>, add: (c: string, w: string, m: string) => void): void {
  const triggers: any[] = asArray(props.Triggers);
  if (triggers.length === 0) return;
  if (type !== 'V2') add('triggers', 'Triggers', 'triggers need pipeline type V2');
  if (triggers.length > CODEPIPELINE.triggersMax) add('triggers', 'Triggers', `${triggers.length} triggers; CodePipeline allows ${CODEPIPELINE.triggersMax}`);
  const seen = new Set<string>();
  triggers.forEach((t, i) => {
    const at = `Triggers[${i}]`;
    if (t.ProviderType !== 'CodeStarSourceConnection') add('triggers', `${at}.ProviderType`, `${show(t.ProviderType)} is not CodeStarSourceConnection`);
    const git = t.GitConfiguration;
    if (!git) {
      add('triggers', `${at}.GitConfiguration`, 'a trigger needs a GitConfiguration');
      return;
    }
    const sourceName = git.SourceActionName;
    if (typeof sourceName !== 'string' || !NAME.test(sourceName)) add('triggers', `${at}.GitConfiguration.SourceActionName`, `${show(sourceName)} is not an action name`);
    else if (sources.get(sourceName) !== 'CodeStarSourceConnection') add('triggers', `${at}.GitConfiguration.SourceActionName`, `"${sourceName}" is not a CodeStarSourceConnection source action of this pipeline`);
    else if (seen.has(sourceName)) add('triggers', `${at}.GitConfiguration.SourceActionName`, `a second trigger for source action "${sourceName}"; one per source action`);
    seen.add(sourceName);
    for (const kind of ['Push', 'PullRequest']) {
      const filters: any[] | undefined = git[kind];
      if (filters === undefined) continue;
      if (!Array.isArray(filters) || filters.length < 1 || filters.length > CODEPIPELINE.filtersPerTriggerMax) {
        add('triggers', `${at}.GitConfiguration.${kind}`, `${kind} has ${Array.isArray(filters) ? filters.length : 'no list of'} filters; 1 to ${CODEPIPELINE.filtersPerTriggerMax}`);
        continue;
      }
      filters.forEach((f, fi) => {
        if (kind === 'PullRequest' && f?.Events !== undefined) {
          // GitPullRequestFilter: 1 to 3 of OPEN, UPDATED, CLOSED
          const events = f.Events;
          const w = `${at}.GitConfiguration.PullRequest[${fi}].Events`;
          if (!Array.isArray(events) || events.length < 1 || events.length > PULL_REQUEST_EVENTS.length) add('triggers', w, `${show(events)}: 1 to ${PULL_REQUEST_EVENTS.length} events`);
          else for (const e of events) if (!PULL_REQUEST_EVENTS.includes(e)) add('triggers', w, `${show(e)} is not a pull request event (${PULL_REQUEST_EVENTS.join(', ')})`);
        }
        for (const criteria of ['Branches', 'Tags', 'FilePaths']) {
          for (const side of ['Includes', 'Excludes']) {
            const patterns = f?.[criteria]?.[side];
            if (patterns === undefined) continue;
            const w = `${at}.GitConfiguration.${kind}[${fi}].${criteria}.${side}`;
            if (!Array.isArray(patterns) || patterns.length < 1 || patterns.length > CODEPIPELINE.patternsPerFilterMax) {
              add('triggers', w, `${Array.isArray(patterns) ? patterns.length : 'no list of'} patterns; 1 to ${CODEPIPELINE.patternsPerFilterMax}`);
            } else {
              for (const p of patterns) {
                if (typeof p !== 'string' || p.length < 1 || p.length > CODEPIPELINE.patternLengthMax) add('triggers', w, `pattern ${show(p)} is not 1–${CODEPIPELINE.patternLengthMax} characters`);
              }
            }
          }
        }
      });
    }
  });
}
