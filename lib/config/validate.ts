import type { z } from 'zod';
import { closest, ConfigIssue, didYouMean, jsonPath, renderValue } from './issues';
import { CFN_TYPE, cfnTypeFindings, convertResource, formatFinding } from './prop-keys';
import { AWS_REGIONS, isKnownRegion, partitionOf } from './regions';
import { DdkFileSchema, defaultApprovalComment, describeType, KNOWN_ENVIRONMENT_KEYS, KNOWN_TOP_LEVEL_KEYS } from './schema';
import { isReference, looksSecret } from './secrets';
import { CODEPIPELINE_LIMITS } from '../pipelines/limits';
import { SERVICE_NAME_PATTERN } from '../releases/shared';
import { CHANGE_REVIEW_HEAD_LENGTH, changeReviewHead, SAFETY_LIMITS } from '../safety/shared';
import { windowProblems } from '../safety/windows';

/** The id of the environment that hosts the pipeline. */
export const CICD_ENVIRONMENT_ID = 'cicd';

/**
 * Stage names the pipelines use themselves (source, build, CDK Pipelines' self-mutation and
 * asset publishing): a plan stage with one of them would collide. Compared case-insensitively,
 * like plan stage names.
 */
export const RESERVED_STAGE_NAMES = ['Source', 'Build', 'UpdatePipeline', 'Assets'];
const reservedStageName = (name: string) => RESERVED_STAGE_NAMES.find(r => r.toLowerCase() === name.toLowerCase());
const RESERVED_EXPECTED = `a name other than ${RESERVED_STAGE_NAMES.map(n => `"${n}"`).join(', ')} (the pipeline's own stages)`;

/**
 * An environment id names its CDK Stage and prefixes its stack names (`<id>-<stack>`), and a
 * CloudFormation stack name must start with a letter and hold only letters, digits and `-`.
 */
const ENV_ID = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;

/** The outcome of validating one parsed ddk.json document. */
export interface Validation {
  readonly issues: ConfigIssue[];
  readonly warnings: string[];
}

/**
 * Validates a parsed ddk.json document: its shape (zod) and the rules that span fields
 * (stages naming environments, the cicd environment, literal secrets…). Every problem
 * is collected; nothing stops at the first one.
 */
export function validateDocument(file: string, doc: unknown): Validation {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const parsed = DdkFileSchema.safeParse(doc);
  if (!parsed.success) {
    for (const zi of parsed.error.issues) issues.push(...fromZodIssue(file, doc, zi as ZodIssueLike, []));
  }
  if (isObject(doc)) {
    crossChecks(file, doc, issues, warnings);
    ddkAttributeChecks(file, doc, issues, warnings);
  }
  return { issues: dedupe(issues), warnings };
}

interface ZodIssueLike {
  readonly code: string;
  readonly path: PropertyKey[];
  readonly message: string;
  readonly keys?: string[];
  readonly errors?: ZodIssueLike[][];
  readonly input?: unknown;
  /** invalid_type: the expected type. */
  readonly expected?: string;
  /** too_small / too_big: the bound, and what it bounds (string, array, number). */
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly origin?: string;
}

function fromZodIssue(file: string, doc: unknown, zi: ZodIssueLike, prefix: PropertyKey[]): ConfigIssue[] {
  const path = [...prefix, ...zi.path];
  if (zi.code === 'invalid_union' && zi.errors && zi.errors.length > 0) {
    // Report the branch the author was evidently writing (an object branch whose own fields fail),
    // rather than "matches none of the alternatives".
    const value = valueAt(doc, path);
    const branch = zi.errors.find(b => b.length > 0 && b.every(e => e.path.length > 0));
    if (branch && isObject(value)) return branch.flatMap(e => fromZodIssue(file, doc, e, path));
  }
  if (zi.code === 'unrecognized_keys' && zi.keys) {
    const known = knownKeysAt(path);
    return zi.keys.map(key => ({
      file,
      path: jsonPath([...path, key]),
      value: safeValue([...path, key], valueAt(doc, [...path, key])),
      problem: `is under an unknown key "${key}"${didYouMean(key, known)}`,
      expected: `one of ${known.map(k => `"${k}"`).join(', ')}`,
      fix: 'remove the key or correct its spelling',
    }));
  }
  const value = valueAt(doc, path);
  const message = decode(zi.message) ?? genericMessage(zi, value);
  return [{ file, path: jsonPath(path), value: safeValue(path, value), ...withMisspelling(doc, path, value, message) }];
}

/**
 * A required key that is missing while its object holds an unknown key spelled like it
 * (`acount` for `account`): the message names that key, as the unknown-key warning does.
 */
function withMisspelling(doc: unknown, path: PropertyKey[], value: unknown, message: { problem: string; expected: string; fix: string }) {
  const key = path[path.length - 1];
  if (value !== undefined || typeof key !== 'string' || !message.problem.startsWith('is missing')) return message;
  const parent = valueAt(doc, path.slice(0, -1));
  if (!isObject(parent)) return message;
  const known = new Set(knownKeysAt(path.slice(0, -1)));
  const typo = closest(key, Object.keys(parent).filter(k => k !== key && !known.has(k)));
  if (typo === undefined) return message;
  return {
    ...message,
    problem: `${message.problem}; the object has an unknown key "${typo}" instead (did you mean "${key}"?)`,
    fix: `rename "${typo}" to "${key}"`,
  };
}

/** Problem, expectation and fix from zod's own issue, for fields whose schema has no `rule()`. */
function genericMessage(zi: ZodIssueLike, value: unknown): { problem: string; expected: string; fix: string } {
  const [one, many] = zi.origin === 'array' ? ['entry', 'entries'] : zi.origin === 'string' ? ['character', 'characters'] : ['', ''];
  const count = (n: number | bigint | undefined) => `${n} ${Number(n) === 1 ? one : many}`.trim();
  const size = Array.isArray(value) || typeof value === 'string' ? value.length : undefined;
  const has = size === undefined || one === '' ? 'is out of range' : size === 0 ? 'is empty' : `has ${count(size)}`;
  switch (zi.code) {
    case 'invalid_type':
      if (value === undefined) return { problem: 'is missing', expected: `a ${zi.expected}`, fix: 'add it' };
      return {
        problem: `is ${describeType(value)}`,
        expected: `a ${zi.expected}`,
        fix: zi.expected === 'boolean' ? 'write true or false without quotes' : `write a ${zi.expected}`,
      };
    case 'too_small':
      return { problem: has, expected: `at least ${count(zi.minimum)}`, fix: zi.origin === 'array' ? 'add an entry, or remove the key to use the default' : 'write a longer value' };
    case 'too_big':
      return { problem: has, expected: `at most ${count(zi.maximum)}`, fix: 'shorten it' };
    default:
      return {
        problem: value === undefined ? 'is missing' : `is invalid (${zi.message})`,
        expected: zi.message.replace(/^Invalid input: /, ''),
        fix: 'correct the value',
      };
  }
}

const REDACTED = '"****" (redacted)';

/**
 * The value rendered for a message, redacted when any key on its path names a secret, and with
 * every literal under a secret-naming key inside it replaced by `****`.
 */
function safeValue(path: PropertyKey[], value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const last = path[path.length - 1];
  if (last === 'ssm' || last === 'secretsManager') return renderValue(value); // a reference names, never holds, the secret
  return path.some(seg => typeof seg === 'string' && looksSecret(seg)) ? REDACTED : renderValue(redactNested(value));
}

function redactNested(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactNested);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, looksSecret(k) && !isReference(v) ? '****' : redactNested(v)]));
}

function decode(message: string): { problem: string; expected: string; fix: string } | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const m = JSON.parse(message);
    return typeof m.problem === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Keys an object schema accepts at a JSON path (used for "did you mean"). */
function knownKeysAt(path: PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = DdkFileSchema;
  for (const seg of path) {
    schema = unwrap(schema);
    const def = (schema as any)?.def;
    if (!def) return [];
    if (def.type === 'object') schema = def.shape[seg as string];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return [];
  }
  const def = (unwrap(schema) as any)?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s: any = schema;
  while (s?.def && (s.def.type === 'optional' || s.def.type === 'nullable' || s.def.type === 'default')) s = s.def.innerType;
  if (s?.def?.type === 'union') s = s.def.options.find((o: any) => o.def?.type === 'object') ?? s;
  return s;
}

function valueAt(doc: unknown, path: PropertyKey[]): unknown {
  let v: any = doc;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[seg as any];
  }
  return v;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter(i => {
    const k = `${i.path}\u0000${i.problem}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function crossChecks(file: string, doc: Record<string, any>, issues: ConfigIssue[], warnings: string[]): void {
  const add = (path: PropertyKey[], value: unknown, problem: string, expected: string, fix: string) =>
    issues.push({ file, path: jsonPath(path), value: safeValue(path, value), problem, expected, fix });

  for (const key of Object.keys(doc)) {
    if (!KNOWN_TOP_LEVEL_KEYS.has(key) && !(key in DDK_TOP_LEVEL_NOTES)) {
      warnings.push(`${file}: ${jsonPath([key])}: unknown top-level key "${key}"${didYouMean(key, KNOWN_TOP_LEVEL_KEYS)} is kept and readable through DdkConfig.attribute(), but ddk-pipelines does not use it`);
    }
  }

  const envs = isObject(doc.environments) ? doc.environments : undefined;
  const envIds = envs ? Object.keys(envs) : [];
  if (envs) {
    if (!envIds.includes(CICD_ENVIRONMENT_ID)) {
      const typo = closest(CICD_ENVIRONMENT_ID, envIds);
      add(['environments', CICD_ENVIRONMENT_ID], undefined,
        `is missing: no environment hosts the pipeline${typo ? ` (environment "${typo}" is spelled like it: did you mean "${CICD_ENVIRONMENT_ID}"?)` : ''}`,
        'an environment with id "cicd" naming the CICD account and region',
        typo ? `rename environment "${typo}" to "${CICD_ENVIRONMENT_ID}"` : 'add "cicd": {"account": "111111111111", "region": "eu-west-1"} to environments');
    }
    if (envIds.filter(id => id !== CICD_ENVIRONMENT_ID).length === 0) {
      add(['environments'], envs, 'has no environment to deploy to', 'at least one environment besides "cicd"',
        'add e.g. "dev": {"account": "222222222222", "region": "eu-west-1"}');
    }
    const firstOfCase = new Map<string, string>();
    for (const id of envIds) {
      const env = envs[id];
      const same = firstOfCase.get(id.toLowerCase());
      if (same !== undefined) {
        add(['environments', id], undefined, `differs from environment "${same}" only in case`,
          'environment ids unique ignoring case (each names a folder of the cloud assembly, and those collide on case-insensitive file systems such as macOS\'s and Windows\')',
          `rename one of "${same}" and "${id}"`);
      } else {
        firstOfCase.set(id.toLowerCase(), id);
      }
      if (!ENV_ID.test(id)) {
        const suggestion = id.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^[^A-Za-z]+/, '').slice(0, 64);
        add(['environments', id], undefined, `has an invalid environment id "${id}"`,
          'an id of letters, digits and - that starts with a letter, at most 64 characters (it names the environment\'s CDK Stage and starts its stack names, which CloudFormation limits to these)',
          `rename the environment${suggestion && suggestion !== id ? `, e.g. "${suggestion}"` : ''}, and the stages that name it`);
      }
      if (!isObject(env)) continue;
      if (typeof env.region === 'string' && !isKnownRegion(env.region)) {
        add(['environments', id, 'region'], env.region, `is not a known AWS region${didYouMean(env.region, AWS_REGIONS)}`,
          'an AWS region code such as "eu-west-1"', 'use the region code, not its name');
      }
      for (const key of Object.keys(env)) {
        if (!KNOWN_ENVIRONMENT_KEYS.has(key) && !(key in DDK_ENVIRONMENT_NOTES)) {
          warnings.push(`${file}: ${jsonPath(['environments', id, key])}: unknown key "${key}"${didYouMean(key, KNOWN_ENVIRONMENT_KEYS)} is kept and readable through EnvironmentConfig.attribute(), but ddk-pipelines does not use it`);
        }
      }
      if (isObject(env.resources)) {
        for (const [constructId, entry] of Object.entries(env.resources)) {
          if (!isObject(entry)) continue;
          const path = ['environments', id, 'resources', constructId];
          const findings = CFN_TYPE.test(constructId) ? cfnTypeFindings(entry, path) : convertResource(entry, 'camel', path).findings;
          for (const f of findings) warnings.push(formatFinding(file, f));
        }
      }
      if (isObject(env.env_vars)) {
        for (const [name, value] of Object.entries(env.env_vars)) {
          if (looksSecret(name) && !isReference(value)) {
            issues.push({
              file,
              path: jsonPath(['environments', id, 'env_vars', name]),
              value: REDACTED,
              problem: `is a literal value under "${name}", a key that names a secret; ddk.json is committed, so the secret would leak`,
              expected: 'a reference: {"ssm": "/parameter/name"} or {"secretsManager": "arn:aws:secretsmanager:…"}',
              fix: 'store the value in SSM Parameter Store (SecureString) or Secrets Manager, rotate it (it may already be in git history) and write the reference instead',
            });
          }
        }
      }
    }
  }

  // IAM trust, roles and CodePipeline's cross-region actions stay within one partition
  const cicdRegion = envs && isObject(envs[CICD_ENVIRONMENT_ID]) && typeof envs[CICD_ENVIRONMENT_ID].region === 'string' ? envs[CICD_ENVIRONMENT_ID].region : undefined;
  if (envs && cicdRegion && isKnownRegion(cicdRegion)) {
    const home = partitionOf(cicdRegion);
    for (const id of envIds.filter(e => e !== CICD_ENVIRONMENT_ID)) {
      const region = isObject(envs[id]) ? envs[id].region : undefined;
      if (typeof region !== 'string' || !isKnownRegion(region) || partitionOf(region) === home) continue;
      add(['environments', id, 'region'], region, `is in the ${partitionOf(region)} partition, but the cicd environment (${cicdRegion}) is in ${home}; a pipeline cannot deploy across partitions`,
        `a region of the ${home} partition`, `deploy ${partitionOf(region)} environments from their own ddk.json whose cicd environment is in ${partitionOf(region)}`);
    }
  }

  const pipeline = isObject(doc.pipeline) ? doc.pipeline : undefined;
  if (!pipeline || pipeline.stages === undefined) {
    // without pipeline.stages, each target environment becomes a stage named after its id
    for (const id of envIds.filter(e => e !== CICD_ENVIRONMENT_ID && reservedStageName(e))) {
      add(['environments', id], undefined, `would name a pipeline stage "${id}", which collides with the pipeline's own "${reservedStageName(id)}" stage`,
        RESERVED_EXPECTED, `rename the environment, or add "pipeline": {"stages": [...]} that deploys "${id}" in a stage with another name`);
    }
  }
  if (!pipeline) return;
  // CodePipeline rolls back no stage of a PARALLEL execution
  const refuseParallelRollback = (path: PropertyKey[], rollback: unknown) => {
    if (pipeline.executionMode !== 'PARALLEL' || rollback !== true) return;
    add(path, true, 'cannot be used with "executionMode": "PARALLEL": CodePipeline does not roll back stages of parallel executions',
      '"rollbackOnFailure": false, or executionMode "QUEUED" or "SUPERSEDED"', 'remove rollbackOnFailure or change the execution mode');
  };
  refuseParallelRollback(['pipeline', 'rollbackOnFailure'], pipeline.rollbackOnFailure);
  if (isObject(pipeline.notifications) && pipeline.notifications.emails !== undefined && pipeline.notifications.topicArn !== undefined) {
    add(['pipeline', 'notifications'], pipeline.notifications, 'names both "emails" and "topicArn"',
      'either a created topic with "emails", or an existing "topicArn"', 'subscribe the addresses to your existing topic and remove "emails"');
  }
  if (isObject(pipeline.source)) {
    const kinds = ['codecommit', 'connection'].filter(k => pipeline.source[k] !== undefined);
    if (kinds.length !== 1) {
      add(['pipeline', 'source'], pipeline.source, kinds.length === 0 ? 'names no source' : 'names two sources',
        'exactly one of "codecommit" or "connection"', 'keep one source: {"codecommit": {"repository": "…"}} or {"connection": {"arn": "…", "repository": "owner/repo"}}');
    }
  }
  const reviewEnv = reviewChecks(pipeline, envs, envIds, add, warnings, file);
  environmentAlarmChecks(pipeline, envs, envIds, add);
  serviceChecks(pipeline, envs, add);
  if (!Array.isArray(pipeline.stages)) return;
  if (pipeline.stages.length === 0) {
    add(['pipeline', 'stages'], pipeline.stages, 'is empty', 'at least one stage', 'add a stage or remove "stages" to get one stage per environment');
  }
  const stageOf = new Map<string, string>();
  const stageNames = new Map<string, number>();
  pipeline.stages.forEach((stage: unknown, i: number) => {
    if (!isObject(stage)) return;
    if (typeof stage.name === 'string') {
      const reserved = reservedStageName(stage.name);
      if (reserved) {
        add(['pipeline', 'stages', i, 'name'], stage.name, `collides with the pipeline's own "${reserved}" stage`, RESERVED_EXPECTED,
          `rename the stage, e.g. "${stage.name.toLowerCase()}-env"`);
      }
      const first = stageNames.get(stage.name.toLowerCase());
      if (first !== undefined) {
        add(['pipeline', 'stages', i, 'name'], stage.name, `repeats the name of pipeline.stages[${first}]`,
          'stage names unique within the pipeline (case-insensitive)', 'rename one of the two stages');
      } else {
        stageNames.set(stage.name.toLowerCase(), i);
      }
    }
    if (Array.isArray(stage.environments)) {
      if (stage.environments.length === 0) {
        add(['pipeline', 'stages', i, 'environments'], stage.environments, 'is empty: the stage would deploy nothing',
          'at least one environment id', `add an environment id (one of ${envIds.filter(e => e !== CICD_ENVIRONMENT_ID).map(e => `"${e}"`).join(', ')}) or remove the stage`);
      }
      stage.environments.forEach((envId: unknown, j: number) => {
        if (typeof envId !== 'string') return;
        const path = ['pipeline', 'stages', i, 'environments', j];
        if (envId === CICD_ENVIRONMENT_ID) {
          add(path, envId, 'is the CICD environment, which hosts the pipeline and is not a deployment target',
            'the id of an application environment', 'deploy to another environment; to deploy into the CICD account, add a separate environment with the same account');
          return;
        }
        if (envs && !(envId in envs)) {
          add(path, envId, `names an environment that does not exist${didYouMean(envId, envIds)}`,
            `one of ${envIds.filter(e => e !== CICD_ENVIRONMENT_ID).map(e => `"${e}"`).join(', ')}`, 'correct the id or add the environment to "environments"');
          return;
        }
        const other = stageOf.get(envId);
        if (other !== undefined) {
          add(path, envId, `is already deployed by stage "${other}"`, 'each environment in exactly one stage',
            'remove the environment from one of the stages (environments of one stage already deploy in parallel)');
          return;
        }
        stageOf.set(envId, typeof stage.name === 'string' ? stage.name : `#${i}`);
      });
    }
    refuseParallelRollback(['pipeline', 'stages', i, 'rollbackOnFailure'], stage.rollbackOnFailure);
    stageSafetyChecks(pipeline, stage, i, envs, add);
    if (Array.isArray(stage.requiredChecks)) {
      const seen = new Set<string>();
      stage.requiredChecks.forEach((c: unknown, j: number) => {
        if (typeof c !== 'string') return;
        if (seen.has(c)) {
          add(['pipeline', 'stages', i, 'requiredChecks', j], c, 'is listed twice', 'each context once', 'remove the duplicate');
        }
        seen.add(c);
      });
    }
  });
  if (envs) {
    for (const id of envIds) {
      if (id !== CICD_ENVIRONMENT_ID && id !== reviewEnv && !stageOf.has(id) && isObject(envs[id])) {
        warnings.push(`${file}: ${jsonPath(['environments', id])}: is in no stage of pipeline.stages and will not be deployed; add it to a stage to deploy it`);
      }
    }
  }
}

type AddIssue = (path: PropertyKey[], value: unknown, problem: string, expected: string, fix: string) => void;

/**
 * A stage's deployment safety: windows (cron and time zone as CodePipeline's DeploymentWindow
 * rule takes them, at most 5), alarms (a rollback: not in PARALLEL mode, not with
 * rollbackOnFailure false), the change review (it is shown in the approval).
 */
function stageSafetyChecks(
  pipeline: Record<string, any>, stage: Record<string, any>, i: number, envs: Record<string, any> | undefined, add: AddIssue,
): void {
  const at = (...rest: PropertyKey[]) => ['pipeline', 'stages', i, ...rest];
  const services = isObject(pipeline.services) && Object.keys(pipeline.services).length > 0;
  const windows = Array.isArray(stage.window) ? stage.window : isObject(stage.window) ? [stage.window] : [];
  if (Array.isArray(stage.window) && stage.window.length === 0) {
    add(at('window'), stage.window, 'is empty', 'a window {"cron", "timeZone"} or a list of 1 to 5', 'remove "window" to deploy at any time');
  }
  if (windows.length > CODEPIPELINE_LIMITS.rulesPerCondition) {
    add(at('window'), `${windows.length} windows`, `has more windows than the ${CODEPIPELINE_LIMITS.rulesPerCondition} rules CodePipeline allows in a stage's BeforeEntry condition`,
      `at most ${CODEPIPELINE_LIMITS.rulesPerCondition} windows (all must be open at once)`, 'merge windows of one time zone into one expression, e.g. "* * 9-11 ? * TUE,THU"');
  }
  windows.forEach((w: unknown, j: number) => {
    if (!isObject(w) || typeof w.cron !== 'string') return;
    const path = Array.isArray(stage.window) ? at('window', j) : at('window');
    const zone = typeof w.timeZone === 'string' ? w.timeZone : undefined;
    for (const p of windowProblems(w.cron, zone)) add([...path, p.key], p.key === 'cron' ? w.cron : zone, p.problem, p.expected, p.fix);
  });
  // windows and alarm watches work with release brackets; a change review reads one stage's single
  // input artifact, while a bracket stage deploys several services' assemblies
  if (services && stage.changeReview === true) {
    add(at('changeReview'), stage.changeReview, 'is not supported yet with "pipeline.services" (release brackets)',
      'deployment windows, alarm watches and change reviews in pipelines without services', 'remove "changeReview" from the stage, or deliver without "pipeline.services"');
  }
  const envAlarms = (Array.isArray(stage.environments) ? stage.environments : [])
    .some((id: unknown) => typeof id === 'string' && envs && isObject(envs[id]) && Array.isArray(envs[id].alarms) && envs[id].alarms.length > 0);
  if (stage.rollbackOnFailure === false && (isObject(stage.alarms) || envAlarms)) {
    add(at('rollbackOnFailure'), false, `turns rollback off, but the stage watches alarms${isObject(stage.alarms) ? '' : ' (its environments\' "alarms")'} to roll back on them`,
      'rollbackOnFailure true (or left out) where alarms are watched', 'remove "rollbackOnFailure": false, or remove the alarms');
  }
  if (isObject(stage.alarms)) {
    const names = Array.isArray(stage.alarms.names) ? stage.alarms.names.length : 0;
    const cicd = Array.isArray(stage.alarms.cicd) ? stage.alarms.cicd.length : 0;
    if (names === 0 && cicd === 0 && !envAlarms) {
      add(at('alarms'), stage.alarms, 'watches no alarm: it names none, nor do the stage\'s environments',
        'alarm names in "names" (the environments\' alarms) or "cicd" (the CICD account\'s)', 'add "names": ["<an alarm of the environments>"], or remove "alarms"');
    }
    if (cicd > CODEPIPELINE_LIMITS.rulesPerCondition) {
      add(at('alarms', 'cicd'), `${cicd} alarms`, `has more alarms than the ${CODEPIPELINE_LIMITS.rulesPerCondition} rules of a stage's OnSuccess condition`,
        `at most ${CODEPIPELINE_LIMITS.rulesPerCondition} CICD-account alarms per stage`, 'combine them into one composite alarm and name that');
    }
    for (const key of ['names', 'cicd']) {
      const list = stage.alarms[key];
      if (!Array.isArray(list)) continue;
      const seen = new Set<unknown>();
      list.forEach((n: unknown, j: number) => {
        if (seen.has(n)) add(at('alarms', key, j), n, 'is listed twice', 'each alarm once', 'remove the duplicate');
        seen.add(n);
      });
    }
    if (pipeline.executionMode === 'PARALLEL') {
      add(at('alarms'), stage.alarms, 'rolls the stage back on an alarm, but "executionMode" is "PARALLEL": CodePipeline does not roll back stages of parallel executions',
        'no alarms, or executionMode "QUEUED" or "SUPERSEDED"', 'remove "alarms" or change the execution mode');
    }
  }
  if (stage.changeReview === true) {
    const envApproval = (Array.isArray(stage.environments) ? stage.environments : [])
      .some((id: unknown) => typeof id === 'string' && envs && isObject(envs[id]) && envs[id].manual_approvals === true);
    const approval = stage.approval === undefined ? envApproval : stage.approval !== false;
    if (!approval) {
      add(at('changeReview'), true, 'has no approval to show the changes in',
        'changeReview together with "approval"', 'add "approval": true to the stage, or remove "changeReview"');
    }
    if (isObject(stage.approval)) {
      // the approval shows the comment (or the default) and the review URL before the summary
      const comment = typeof stage.approval.comment === 'string' ? stage.approval.comment : defaultApprovalComment(String(stage.name));
      const reviewUrl = typeof stage.approval.reviewUrl === 'string' ? stage.approval.reviewUrl : undefined;
      const head = changeReviewHead(comment, reviewUrl);
      if (head.length > CHANGE_REVIEW_HEAD_LENGTH) {
        add(at('approval'), `${head.length} characters of ${reviewUrl === undefined ? 'comment' : 'comment and review URL'}`,
          `leaves no room for the change summary (up to ${SAFETY_LIMITS.summaryLength} characters) in the approval, which CodePipeline limits to 1,000`,
          `a comment${reviewUrl === undefined ? '' : ' and reviewUrl'} of at most ${CHANGE_REVIEW_HEAD_LENGTH} characters together with changeReview`,
          'shorten the comment or the review URL; the full report is behind the approval\'s link');
      }
    }
  }
}

/** An environment's own `alarms` roll back every stage that deploys it: not in PARALLEL mode. */
function environmentAlarmChecks(pipeline: Record<string, any>, envs: Record<string, any> | undefined, envIds: string[], add: AddIssue): void {
  if (!envs) return;
  for (const id of envIds) {
    const alarms = isObject(envs[id]) ? envs[id].alarms : undefined;
    if (!Array.isArray(alarms) || alarms.length === 0) continue;
    if (id === CICD_ENVIRONMENT_ID) {
      add(['environments', id, 'alarms'], alarms, 'are alarms of the CICD environment, which no stage deploys',
        'alarms of an application environment', 'list them in a stage\'s "alarms": {"cicd": [...]} instead');
    } else if (pipeline.executionMode === 'PARALLEL') {
      add(['environments', id, 'alarms'], alarms, 'roll back the stages that deploy this environment, but "executionMode" is "PARALLEL": CodePipeline does not roll back stages of parallel executions',
        'no alarms, or executionMode "QUEUED" or "SUPERSEDED"', 'remove "alarms" or change the execution mode');
    }
  }
}

/**
 * `pipeline.review`: its environment must be an application environment of the file. Returns
 * the review environment's id when it names one (it is then no "environment in no stage").
 */
function reviewChecks(
  pipeline: Record<string, any>, envs: Record<string, any> | undefined, envIds: string[], add: AddIssue, warnings: string[], file: string,
): string | undefined {
  const review = isObject(pipeline.review) ? pipeline.review : undefined;
  const id = review?.environment;
  if (typeof id !== 'string' || !envs) return undefined;
  const targets = envIds.filter(e => e !== CICD_ENVIRONMENT_ID);
  const path = ['pipeline', 'review', 'environment'];
  if (id === CICD_ENVIRONMENT_ID) {
    add(path, id, 'is the CICD environment, which hosts the pipeline and is not a deployment target',
      `the id of an application environment${targets.length > 0 ? ` (${targets.map(e => `"${e}"`).join(', ')})` : ''}`,
      'host review deployments in a development environment, or add an environment for them (it may use the CICD account, bootstrapped with --trust)');
    return undefined;
  }
  if (!(id in envs)) {
    add(path, id, `names an environment that does not exist${didYouMean(id, envIds)}`,
      targets.length > 0 ? `one of ${targets.map(e => `"${e}"`).join(', ')}` : 'the id of an application environment', 'correct the id or add the environment to "environments"');
    return undefined;
  }
  if (pipeline.stages === undefined && targets.length > 1) {
    warnings.push(`${file}: ${jsonPath(path)}: "${id}" hosts the review deployments and, because pipeline.stages is not set, is also a stage of the pipeline (every environment is). `
      + 'If it is meant for review deployments only, list "pipeline.stages" without it');
  }
  return id;
}

/**
 * `pipeline.services` (release brackets) and `stages[].bracket`: the strategy, the sections that
 * do not go with services, one repository per service, the bracket stages' order.
 */
function serviceChecks(pipeline: Record<string, any>, environments: Record<string, any> | undefined, add: AddIssue): void {
  const services = isObject(pipeline.services) ? pipeline.services : undefined;
  const stages: unknown[] = Array.isArray(pipeline.stages) ? pipeline.stages : [];
  const bracketAt = stages.findIndex(st => isObject(st) && st.bracket === true);
  if (!services) {
    stages.forEach((st, i) => {
      if (isObject(st) && st.bracket !== undefined) {
        add(['pipeline', 'stages', i, 'bracket'], st.bracket, 'marks a bracket stage, but the pipeline has no services',
          'bracket only with "pipeline.services" (several services released together)', 'remove "bracket", or declare the services in "pipeline.services"');
      }
    });
    return;
  }
  const names = Object.keys(services);
  if (names.length === 0) {
    add(['pipeline', 'services'], services, 'is empty', 'at least one service {"name": {"source": {…}}}', 'declare the services, or remove "services" to deliver one application');
    return;
  }
  const strategy = pipeline.strategy ?? 'cdk-pipelines';
  if (strategy !== 'codepipeline-trunk') {
    add(['pipeline', 'strategy'], strategy, `${pipeline.strategy === undefined ? 'defaults to "cdk-pipelines", which' : 'is a strategy that'} cannot deliver services in release brackets`,
      '"codepipeline-trunk" (one pipeline per service, one release pipeline)', 'set "strategy": "codepipeline-trunk", or remove "services"');
  }
  if (pipeline.source !== undefined) {
    add(['pipeline', 'source'], pipeline.source, 'is set beside "services": each service has its own source', 'no pipeline.source with services',
      'move the repository into a service: "services": {"<name>": {"source": …}}');
  }
  if (pipeline.review !== undefined) {
    add(['pipeline', 'review'], pipeline.review, 'is set beside "services": review deployments of services are not supported yet', 'no pipeline.review with services',
      'remove "review", or deliver one application per ddk.json');
  }
  if (pipeline.executionMode === 'PARALLEL') {
    add(['pipeline', 'executionMode'], 'PARALLEL', 'cannot release services: a release moves through the bracket stages as one unit, one release per stage at a time',
      '"QUEUED" (releases wait in order) or "SUPERSEDED" (a newer release replaces a waiting one)', 'use "QUEUED" or "SUPERSEDED"');
  }
  for (const name of names.filter(n => !SERVICE_NAME_PATTERN.test(n))) {
    add(['pipeline', 'services', name], undefined, `has the name "${name}", which is not a service name`,
      'lower-case letters, digits and "-", starting with a letter, 1 to 40 characters (e.g. "foobar-backend"): it names pipelines and stacks',
      `rename the service${/^[a-z]/i.test(name) ? `, e.g. "${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 40)}"` : ''}`);
  }
  const repositories = new Map<string, string>();
  for (const name of names) {
    const src = isObject(services[name]) && isObject(services[name].source) ? services[name].source : undefined;
    if (!src) continue;
    const kinds = ['codecommit', 'connection'].filter(k => src[k] !== undefined);
    if (kinds.length !== 1) {
      add(['pipeline', 'services', name, 'source'], src, kinds.length === 0 ? 'names no source' : 'names two sources',
        'exactly one of "codecommit" or "connection"', 'keep one source: {"codecommit": {"repository": "…"}} or {"connection": {"arn": "…", "repository": "owner/repo"}}');
      continue;
    }
    const repo = isObject(src[kinds[0]]) ? src[kinds[0]].repository : undefined;
    if (typeof repo !== 'string') continue;
    const key = `${kinds[0]}:${repo}`;
    const other = repositories.get(key);
    if (other !== undefined) {
      add(['pipeline', 'services', name, 'source', kinds[0], 'repository'], repo, `is also the repository of service "${other}"`,
        'one repository per service', 'give each service its own repository, or make them one service');
    }
    repositories.set(key, name);
  }
  // a service's stacks are <service>-<environment>-<stack>: "api" in "eu-dev" and "api-eu" in "dev" would share names
  const prefixes = new Map<string, string>();
  for (const name of names.filter(n => SERVICE_NAME_PATTERN.test(n))) {
    for (const env of envIdsOf(environments)) {
      const prefix = `${name}-${env}`.toLowerCase();
      const other = prefixes.get(prefix);
      if (other !== undefined && other !== `${name}/${env}`) {
        add(['pipeline', 'services', name], undefined, `in environment "${env}" names its stacks "${name}-${env}-…", as service ${other.replace('/', ' does in environment ')}`,
          'service and environment names whose "<service>-<environment>" prefixes differ', 'rename one of the two services (or environments)');
      }
      prefixes.set(prefix, `${name}/${env}`);
    }
  }
  if (pipeline.stages === undefined) {
    add(['pipeline', 'stages'], undefined, 'is missing: with services, the stages say where each service goes alone and from where they are released together',
      'stages, one of them with "bracket": true', 'add "stages": [{"name": "dev", "environments": ["dev"]}, {"name": "hardening", "environments": ["hardening"], "bracket": true}]');
    return;
  }
  if (stages.length > 0 && bracketAt < 0) {
    add(['pipeline', 'stages'], undefined, 'has no bracket stage: no release would move the services together',
      'one stage with "bracket": true (it and every later stage release the services as one unit)', 'add "bracket": true to the first stage the services go to together');
  }
  stages.forEach((st, i) => {
    if ((bracketAt < 0 || i < bracketAt) && isObject(st) && typeof st.name === 'string' && st.name.toLowerCase() === 'candidate') {
      add(['pipeline', 'stages', i, 'name'], st.name, 'collides with the "Candidate" stage that ends each service\'s pipeline (it records the revision for releases)',
        'a per-service stage name other than "Candidate"', 'rename the stage');
    }
    if (i > bracketAt && bracketAt >= 0 && isObject(st) && st.bracket === false) {
      add(['pipeline', 'stages', i, 'bracket'], false, `makes a per-service stage after the bracket stage pipeline.stages[${bracketAt}]: a release cannot split up again`,
        'per-service stages first, then bracket stages', 'remove "bracket": false, or move the stage before the first bracket stage');
    }
  });
}

function envIdsOf(environments: Record<string, any> | undefined): string[] {
  return Object.keys(environments ?? {}).filter(id => id !== CICD_ENVIRONMENT_ID);
}

const CDK_BOOTSTRAP_ROLES = 'ddk-pipelines deploys through the standard CDK bootstrap roles ("cdk-<qualifier>-…"), which "ddk bootstrap" does not create. '
  + 'Fix: bootstrap the account with cdk bootstrap (`npx ddk-pipelines bootstrap --dry-run` prints the command) and remove it';

/** AWS DDK top-level keys ddk-pipelines does not act on, and what to do instead. */
const DDK_TOP_LEVEL_NOTES: { [key: string]: string } = {
  cdk_version: 'is the AWS DDK\'s CDK version for its pipeline and is not used: the pipeline installs the CDK CLI ddk-pipelines pins, '
    + 'and the app\'s aws-cdk-lib comes from its package.json. Fix: remove it',
  account: 'is not used: accounts are read from environments.<id>.account. Fix: remove it',
  region: 'is not used: regions are read from environments.<id>.region. Fix: remove it',
  bootstrap: `is the AWS DDK's bootstrap settings and is not used: ${CDK_BOOTSTRAP_ROLES}`,
};

/** AWS DDK environment keys ddk-pipelines does not act on, and what to do instead. */
const DDK_ENVIRONMENT_NOTES: { [key: string]: string } = {
  execute_security_lint: 'is the AWS DDK\'s switch for a cfn-nag and bandit stage and is not used: ddk-pipelines adds no such stage; '
    + 'its security lint is cdk-nag (AwsSolutions) at every synthesis of the app. Fix: remove it',
  execute_tests: 'is the AWS DDK\'s switch for a test stage and is not used: ddk-pipelines runs tests in pipeline.synth.commands (default: npm test) '
    + 'and after a stage\'s deployments (pipeline.stages[].tests). Fix: move your test command there and remove it',
  prefix: `is the AWS DDK's bootstrap role prefix and is not used: ${CDK_BOOTSTRAP_ROLES}`,
};

/** An SNS topic ARN, as `pipeline.notifications.topicArn` accepts it. */
const SNS_TOPIC_ARN = /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;

/**
 * The DDK's per-environment `manual_approvals` and `notifications_topic_arn`, where they meet the
 * pipeline: the plan honours them (see `DeliveryPlan`); here, what contradicts the `pipeline`
 * section is an error and what has no effect is a warning naming the key.
 */
function ddkAttributeChecks(file: string, doc: Record<string, any>, issues: ConfigIssue[], warnings: string[]): void {
  const envs = isObject(doc.environments) ? doc.environments : undefined;
  if (!envs) return;
  const pipeline = isObject(doc.pipeline) ? doc.pipeline : {};
  const notifications = isObject(pipeline.notifications) ? pipeline.notifications : undefined;
  const add = (path: PropertyKey[], value: unknown, problem: string, expected: string, fix: string) =>
    issues.push({ file, path: jsonPath(path), value: safeValue(path, value), problem, expected, fix });
  const warn = (path: PropertyKey[], text: string) => warnings.push(`${file}: ${jsonPath(path)}: ${text}`);

  // DDK keys that map onto nothing of ours: named, with what to do instead
  for (const key of Object.keys(doc).filter(k => k in DDK_TOP_LEVEL_NOTES)) warn([key], DDK_TOP_LEVEL_NOTES[key]);
  for (const [id, env] of Object.entries(envs)) {
    if (!isObject(env)) continue;
    for (const key of Object.keys(env).filter(k => k in DDK_ENVIRONMENT_NOTES)) warn(['environments', id, key], DDK_ENVIRONMENT_NOTES[key]);
    if (!isObject(env.bootstrap)) continue;
    const used = knownKeysAt(['environments', id, 'bootstrap']);
    for (const key of Object.keys(env.bootstrap).filter(k => !used.includes(k))) {
      warn(['environments', id, 'bootstrap', key], `is not used (ddk-pipelines reads only ${used.map(k => `bootstrap.${k}`).join(' and ')}): ${CDK_BOOTSTRAP_ROLES}`);
    }
  }

  // notifications_topic_arn: the cicd environment's names the pipeline's topic
  const topicOf = (id: string) => (isObject(envs[id]) ? envs[id].notifications_topic_arn : undefined);
  for (const id of Object.keys(envs)) {
    const arn = topicOf(id);
    if (typeof arn === 'string' && !SNS_TOPIC_ARN.test(arn)) {
      add(['environments', id, 'notifications_topic_arn'], arn, 'is not an SNS topic ARN', '"arn:aws:sns:REGION:ACCOUNT:NAME"', 'copy the topic ARN from the SNS console');
    }
  }
  const cicdTopic = topicOf(CICD_ENVIRONMENT_ID);
  const cicdTopicPath = ['environments', CICD_ENVIRONMENT_ID, 'notifications_topic_arn'];
  if (typeof cicdTopic === 'string' && notifications) {
    if (typeof notifications.topicArn === 'string' && notifications.topicArn !== cicdTopic) {
      add(cicdTopicPath, cicdTopic, `names another topic than pipeline.notifications.topicArn (${notifications.topicArn}); the pipeline notifies one topic`,
        'one topic, named in one of the two places', 'remove one of the two, or make them the same ARN');
    } else if (notifications.emails !== undefined && notifications.topicArn === undefined) {
      add(cicdTopicPath, cicdTopic, 'names an existing topic for the pipeline\'s notifications, but pipeline.notifications.emails asks for a created one',
        'either a created topic with "emails", or an existing topic', 'subscribe the addresses to your existing topic and remove "emails", or remove notifications_topic_arn');
    }
  }
  const pipelineTopic = typeof notifications?.topicArn === 'string' ? notifications.topicArn : cicdTopic;
  for (const id of Object.keys(envs).filter(e => e !== CICD_ENVIRONMENT_ID)) {
    const arn = topicOf(id);
    if (typeof arn !== 'string' || arn === pipelineTopic) continue;
    warn(['environments', id, 'notifications_topic_arn'],
      'is not used: ddk-pipelines sends the events of the whole pipeline (every stage) to one topic, named by environments.cicd.notifications_topic_arn or pipeline.notifications.topicArn. '
      + 'Fix: move it to the cicd environment, or remove it');
  }

  // manual_approvals: an approval before the stage that deploys the environment
  if (isObject(envs[CICD_ENVIRONMENT_ID]) && envs[CICD_ENVIRONMENT_ID].manual_approvals === true) {
    warn(['environments', CICD_ENVIRONMENT_ID, 'manual_approvals'],
      'has no effect: the cicd environment hosts the pipeline and is never deployed by a stage. Fix: set it on the environment whose deployment should wait, or remove it');
  }
  if (!Array.isArray(pipeline.stages)) return;
  pipeline.stages.forEach((stage: unknown, i: number) => {
    if (!isObject(stage) || !Array.isArray(stage.environments)) return;
    const name = typeof stage.name === 'string' ? `"${stage.name}"` : `#${i}`;
    for (const envId of stage.environments) {
      const manual = typeof envId === 'string' && isObject(envs[envId]) ? envs[envId].manual_approvals : undefined;
      if (manual === true && stage.approval === false) {
        add(['pipeline', 'stages', i, 'approval'], false, `is false, but environments.${envId}.manual_approvals is true: the stage would deploy ${envId} without the approval it asks for`,
          'an approval before a stage that deploys an environment with "manual_approvals": true',
          `remove "approval": false (stage ${name} then waits for a manual approval), or set environments.${envId}.manual_approvals to false`);
      } else if (manual === false && stage.approval !== undefined && stage.approval !== false) {
        warn(['environments', envId, 'manual_approvals'],
          `is false, but pipeline.stages[${i}] (${name}) asks for an approval: the stage waits for it before deploying ${envId}. Fix: remove manual_approvals, or the stage's approval`);
      }
    }
  });
}
