import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { partitionOfRegion } from '../config/regions';
import { isObj, show, str } from '../input-values';
import { lookupRoleName, SAFETY_LIMITS, SAFETY_STAGES_VARIABLE, SafetyStages, SafetyTarget } from './shared';

/*
 * DDK_SAFETY_STAGES, written (DeploymentSafety, at synth) and read (both handlers) in one place.
 *
 * Lambda allows 4 KB for all of a function's environment variables, and organisations deploy a
 * stage to dozens of accounts, so the value is compact:
 * - a target names its lookup role by its bootstrap qualifier only (`qualifier`, absent for the
 *   default `hnb659fds`); the handler derives `arn:<partition>:iam::<account>:role/
 *   cdk-<qualifier>-lookup-role-<account>-<region>`, the partition from its own region (AWS_REGION:
 *   a role is assumable only within the function's partition). The value then holds no
 *   CloudFormation token (no `${AWS::Partition}`), so it can be compressed at synth;
 * - when the JSON does not fit, it is stored deflate-raw compressed, base64, after `deflate:`
 *   (Node's zlib, RFC 1951).
 */

/** The CDK's default bootstrap qualifier (`cdk bootstrap` without --qualifier). */
export const DEFAULT_QUALIFIER = 'hnb659fds';

/** The prefix of a compressed `DDK_SAFETY_STAGES`: `deflate:<base64 of deflate-raw of the JSON>`. */
export const COMPRESSED_PREFIX = 'deflate:';

/** One target as `DDK_SAFETY_STAGES` holds it: `SafetyTarget` with its lookup role named by its qualifier. */
export type SafetyTargetSetting = Omit<SafetyTarget, 'lookupRoleArn'> & {
  /** The target's bootstrap qualifier; absent for `hnb659fds` (the CDK's default). */
  readonly qualifier?: string;
};

/** One stage as `DDK_SAFETY_STAGES` holds it. */
export interface SafetyStageSetting {
  readonly targets: SafetyTargetSetting[];
  readonly soakMinutes?: number;
}

/** The value of `DDK_SAFETY_STAGES` before encoding: by plan stage name. */
export type SafetyStageSettings = Record<string, SafetyStageSetting>;

/** The ARN of the CDK lookup role of an account and region (`cdk-<qualifier>-lookup-role-<account>-<region>`). */
export function lookupRoleArn(partition: string, account: string, region: string, qualifier: string = DEFAULT_QUALIFIER): string {
  return `arn:${partition}:iam::${account}:role/${lookupRoleName(account, region, qualifier)}`;
}

/**
 * The value of `DDK_SAFETY_STAGES`: the JSON when it takes at most `budget` bytes, otherwise the
 * compressed form (which may still exceed the budget: the caller checks).
 */
export function encodeSafetyStages(stages: SafetyStageSettings, budget: number): string {
  const json = JSON.stringify(stages);
  if (Buffer.byteLength(json) <= budget) return json;
  return COMPRESSED_PREFIX + deflateRawSync(Buffer.from(json), { level: 9 }).toString('base64');
}

const WHAT = 'JSON safety stages ({"<stage>": {"targets": [...], "soakMinutes"}}, or deflate:<base64 of them>)';
const FIX = 'Fix: deploy the CICD stack (its DeploymentSafety construct sets the variable from the plan)';

/**
 * `DDK_SAFETY_STAGES` read (JSON or compressed) and checked, with each target's lookup role ARN
 * derived in the partition of `AWS_REGION`. A missing or malformed value is a deployment defect
 * (throws, naming the variable and the fix). The one reader of both handlers.
 */
export function readSafetyStages(env: NodeJS.ProcessEnv = process.env): SafetyStages {
  const bad = (what: string) => new Error(`environment variable ${SAFETY_STAGES_VARIABLE}: ${what}. ${FIX}`);
  const raw = env[SAFETY_STAGES_VARIABLE];
  if (raw === undefined || raw === '') throw new Error(`environment variable ${SAFETY_STAGES_VARIABLE} is not set; expected the ${WHAT}. ${FIX}`);
  let json = raw;
  if (raw.startsWith(COMPRESSED_PREFIX)) {
    try {
      json = inflateRawSync(Buffer.from(raw.slice(COMPRESSED_PREFIX.length), 'base64')).toString('utf8');
    } catch (e) {
      throw bad(`the compressed value does not inflate (${(e as Error).message}); expected ${COMPRESSED_PREFIX}<base64 of deflate-raw JSON>`);
    }
  }
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`environment variable ${SAFETY_STAGES_VARIABLE} is not JSON (${(e as Error).message}); expected the ${WHAT}. ${FIX}`);
  }
  const region = str(env.AWS_REGION);
  const partition = region === undefined ? undefined : partitionOfRegion(region);
  if (partition === undefined) {
    throw new Error(`environment variable AWS_REGION is ${show(region)}; expected a region of a known partition, for the targets' lookup role ARNs (Lambda sets it). Fix: run the function in a region of the targets' partition`);
  }
  if (!isObj(v)) throw bad(`${show(v)} is not an object by stage name`);
  const stages: Array<[string, SafetyStages[string]]> = [];
  for (const [name, s] of Object.entries(v)) {
    if (!isObj(s) || !Array.isArray(s.targets)) throw bad(`stage "${name}" is ${show(s)}; expected {"targets": [...]}`);
    const targets = s.targets.map((t: unknown, i: number): SafetyTarget => {
      const names = (a: unknown) => Array.isArray(a) && a.every(x => str(x) !== undefined);
      if (!isObj(t) || ['id', 'account', 'region'].some(k => str(t[k]) === undefined)
        || ['qualifier', 'assembly'].some(k => t[k] !== undefined && str(t[k]) === undefined)
        || (t.alarms !== undefined && !names(t.alarms))) {
        throw bad(`stage "${name}" targets[${i}] is ${show(t)}; expected {"id", "account", "region", "qualifier"?, "assembly"?, "alarms"?: [names]}`);
      }
      const { qualifier, ...target } = t as unknown as SafetyTargetSetting;
      return { ...target, lookupRoleArn: lookupRoleArn(partition, target.account, target.region, qualifier) };
    });
    if (s.soakMinutes !== undefined && !(Number.isInteger(s.soakMinutes)
      && (s.soakMinutes as number) >= SAFETY_LIMITS.minSoakMinutes && (s.soakMinutes as number) <= SAFETY_LIMITS.maxSoakMinutes)) {
      throw bad(`stage "${name}" soakMinutes is ${show(s.soakMinutes)}; expected whole minutes from ${SAFETY_LIMITS.minSoakMinutes} to ${SAFETY_LIMITS.maxSoakMinutes}`);
    }
    stages.push([name, { targets, ...(s.soakMinutes !== undefined ? { soakMinutes: s.soakMinutes as number } : {}) }]);
  }
  // fromEntries: a stage named "__proto__" is a stage, not a prototype
  return Object.fromEntries(stages);
}
