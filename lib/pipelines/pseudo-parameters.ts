import { Stack, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * The values CloudFormation substitutes for the pseudo parameters of one stack whose account and
 * region are known at synthesis.
 */
export interface PseudoParameterValues {
  readonly 'AWS::Partition': string;
  readonly 'AWS::Region': string;
  readonly 'AWS::AccountId': string;
  readonly 'AWS::URLSuffix': string;
}

/**
 * The pseudo-parameter values of `stack`, or `undefined` when its account or region is a token
 * or its region is unknown to aws-cdk-lib's region table (then nothing can be folded).
 */
export function pseudoParameterValues(stack: Stack): PseudoParameterValues | undefined {
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) return undefined;
  const info = RegionInfo.get(stack.region);
  if (!info.partition || !info.domainSuffix) return undefined;
  return { 'AWS::Partition': info.partition, 'AWS::Region': stack.region, 'AWS::AccountId': stack.account, 'AWS::URLSuffix': info.domainSuffix };
}

/** Template sections whose intrinsics are folded; Parameters and Rules are left as written. */
const FOLDED_SECTIONS = ['Resources', 'Outputs', 'Conditions'];

/**
 * Replaces what CloudFormation would compute at deploy time from known values alone, in a
 * synthesized template (pure: returns a new template, `template` is not changed):
 * - `{"Ref": "AWS::Partition" | "AWS::Region" | "AWS::AccountId" | "AWS::URLSuffix"}` → its value;
 * - `{"Fn::Sub": "…"}` (string form) whose every `${Name}` is one of those → the string
 *   (`${!Literal}` becomes `${Literal}`, as CloudFormation does);
 * - `{"Fn::Join": [delimiter, parts]}` whose parts are all strings (after folding) → the joined string.
 *
 * Anything else is kept, so a partially known value stays an intrinsic.
 */
export function foldPseudoParameters(template: any, values: PseudoParameterValues): any {
  const out = { ...template };
  for (const section of FOLDED_SECTIONS) {
    if (out[section] !== undefined) out[section] = fold(out[section], values);
  }
  return out;
}

function fold(node: any, values: PseudoParameterValues): any {
  if (Array.isArray(node)) return node.map(n => fold(n, values));
  if (node === null || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  if (keys.length === 1) {
    const [key] = keys;
    const arg = node[key];
    if (key === 'Ref' && typeof arg === 'string' && Object.prototype.hasOwnProperty.call(values, arg)) return values[arg as keyof PseudoParameterValues];
    if (key === 'Fn::Sub' && typeof arg === 'string') return substitute(arg, values) ?? node;
    if (key === 'Fn::Join' && Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string' && Array.isArray(arg[1])) {
      const parts = arg[1].map((p: any) => fold(p, values));
      return parts.every((p: any) => typeof p === 'string') ? parts.join(arg[0]) : { 'Fn::Join': [arg[0], parts] };
    }
  }
  const copy: Record<string, any> = {};
  for (const k of keys) copy[k] = fold(node[k], values);
  return copy;
}

/** An `Fn::Sub` string with every variable substituted, or `undefined` if one is not known. */
function substitute(text: string, values: PseudoParameterValues): string | undefined {
  let unknown = false;
  const result = text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (Object.prototype.hasOwnProperty.call(values, name)) return values[name as keyof PseudoParameterValues];
    unknown = true;
    return whole;
  });
  return unknown ? undefined : result;
}
