import { CDK_ACRONYM_PROP_NAMES, CDK_NAME_MAP_PROPS } from './cdk-prop-names';
import { jsonPath } from './issues';

/*
 * The keys of `environments.<id>.resources` entries, turned into the property names of
 * aws-cdk-lib constructs at every depth: DDK (Python) users write snake_case, TypeScript users
 * camelCase, AWS DDK 1.x (TypeScript) users CloudFormation's PascalCase. Pure: no aws-cdk-lib.
 */

/** The case of the keys a caller wants: camelCase (TypeScript) or snake_case (Python). */
export type KeyCase = 'camel' | 'snake';

/** A key of a resources entry that cannot be turned into a property name; it is not passed. */
export interface ResourceKeyFinding {
  /** JSON path of the key, from `environments`. */
  readonly path: PropertyKey[];
  /** What is wrong, starting with the key. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

/** A resources entry split into construct props and CloudFormation property overrides. */
export interface ConvertedResource {
  /** Props for the construct, keys in the requested case at every depth. */
  readonly props: { [key: string]: any };
  /** PascalCase top-level keys: CloudFormation properties of the construct's resource, as written. */
  readonly overrides: { [key: string]: any };
  /** Keys that are not passed, and why. */
  readonly findings: ResourceKeyFinding[];
}

/** `AWS::S3::Bucket`: an entry of CloudFormation properties for every resource of that type. */
export const CFN_TYPE = /^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$/;

const WORD = /^[a-z][a-z0-9]*$/;
const CAMEL = /^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$/;
const SNAKE = /^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+$/;
const PASCAL = /^[A-Z][A-Za-z0-9]*$/;

/** snake_case or kebab-case → camelCase, as aws-cdk-lib spells it (`enforce_ssl` → `enforceSSL`). */
export function camelCase(key: string): string {
  const snake = key.replace(/-/g, '_');
  const known = CDK_ACRONYM_PROP_NAMES[snake.toLowerCase()];
  if (known !== undefined) return known;
  return key.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * camelCase → snake_case, exactly as jsii names the property in Python
 * (`enforceSSL` → `enforce_ssl`, `memoryLimitMiB` → `memory_limit_mib`).
 */
export function snakeCase(key: string): string {
  const abbreviated = key.replace(/(^|[^A-Z])(KiB|MiB|GiB)($|[^a-z])/g, (_, before: string, abbr: string, after: string) => before + abbr[0] + abbr.slice(1).toLowerCase() + after);
  if (abbreviated.length < 2) return abbreviated.toLowerCase();
  return abbreviated
    .replace(/([\p{Ll}\d])(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll}+)/gu, '$1_$2')
    .toLowerCase();
}

/** The property name of a key in the requested case, or undefined when the key is not one. */
function propertyName(key: string, keyCase: KeyCase): string | undefined {
  let camel: string;
  if (WORD.test(key) || SNAKE.test(key)) camel = camelCase(key);
  else if (CAMEL.test(key)) camel = CDK_ACRONYM_PROP_NAMES[snakeCase(key)] ?? key;
  else return undefined;
  return keyCase === 'camel' ? camel : snakeCase(camel);
}

/** What a PascalCase or odd key inside construct props probably meant. */
function suggestion(key: string): string {
  if (!PASCAL.test(key) || !/[a-z]/.test(key)) return 'remove it, or write the construct prop it stands for in camelCase or snake_case';
  const camel = camelCase(snakeCase(key));
  return `write the construct prop "${snakeCase(key)}" (or "${camel}") instead`;
}

/**
 * Converts one `resources.<construct-id>` entry.
 *
 * Top-level keys are construct props (snake_case, kebab-case or camelCase) or, when PascalCase,
 * CloudFormation properties of the construct's resource (the AWS DDK 1.x reading). Inside props,
 * objects are structs whose keys are converted too, except the values of props that are maps of
 * names you choose (`tags`, a Lambda function's `environment`, …): their keys are kept as written.
 *
 * @param entry the entry as written
 * @param keyCase the case of the returned keys
 * @param path JSON path of the entry, for findings
 */
export function convertResource(entry: { [key: string]: unknown }, keyCase: KeyCase, path: PropertyKey[]): ConvertedResource {
  const findings: ResourceKeyFinding[] = [];
  const props: { [key: string]: any } = {};
  const overrides: { [key: string]: any } = {};
  for (const [key, value] of Object.entries(entry)) {
    if (PASCAL.test(key) && /[a-z]/.test(key)) {
      overrides[key] = value;
      continue;
    }
    const name = propertyName(key, keyCase);
    if (name === undefined) {
      findings.push({ path: [...path, key], problem: `key "${key}" is neither a construct prop (camelCase or snake_case) nor a CloudFormation property (PascalCase), so it is not passed`, fix: suggestion(key) });
      continue;
    }
    if (name in props) {
      findings.push({ path: [...path, key], problem: `key "${key}" names the same prop as another key of this entry, so it is not passed`, fix: 'keep one of the two spellings' });
      continue;
    }
    props[name] = convertValue(value, keyCase === 'camel' ? name : camelCase(name), keyCase, [...path, key], findings);
  }
  return { props, overrides, findings };
}

/**
 * The top-level keys of a `resources["AWS::X::Y"]` entry that are not CloudFormation property
 * names (PascalCase): they are not applied. Values are applied as written.
 */
export function cfnTypeFindings(entry: { [key: string]: unknown }, path: PropertyKey[]): ResourceKeyFinding[] {
  return Object.keys(entry).filter(k => !PASCAL.test(k)).map(key => ({
    path: [...path, key],
    problem: `key "${key}" is not a CloudFormation property name (those are PascalCase, e.g. "MemorySize"), so it is not applied`,
    fix: SNAKE.test(key) || WORD.test(key) || CAMEL.test(key)
      ? `write the CloudFormation property name, e.g. "${pascalGuess(key)}", as the resource type's documentation spells it`
      : 'remove it, or write the CloudFormation property name',
  }));
}

/** The keys of a CloudFormation type entry that are applied. */
export function cfnTypeProperties(entry: { [key: string]: unknown }): { [key: string]: unknown } {
  return Object.fromEntries(Object.entries(entry).filter(([k]) => PASCAL.test(k)));
}

function pascalGuess(key: string): string {
  const camel = camelCase(key);
  return camel[0].toUpperCase() + camel.slice(1);
}

/** A value under prop `camelName`: structs converted, maps of names kept. */
function convertValue(value: unknown, camelName: string, keyCase: KeyCase, path: PropertyKey[], findings: ResourceKeyFinding[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => convertStructValue(v, keyCase, [...path, i], findings));
  if (!isPlainObject(value)) return value;
  const mapKind = CDK_NAME_MAP_PROPS[camelName];
  if (mapKind === undefined) return convertStruct(value, keyCase, path, findings);
  const out: { [key: string]: unknown } = {};
  for (const [key, v] of Object.entries(value)) {
    if (mapKind === 'ambiguous' && SNAKE.test(key)) {
      findings.push({
        path: [...path, key],
        problem: `key "${key}" is kept as written: "${camelName}" is a map of names you choose for some constructs `
          + '(e.g. a Lambda function\'s environment variables) and a struct of props for others',
        fix: `if "${camelName}" holds props for this construct, write "${camelCase(key)}"; if it is a name, ignore this warning`,
      });
    }
    out[key] = mapKind === 'struct-values' ? convertStructValue(v, keyCase, [...path, key], findings) : v;
  }
  return out;
}

function convertStructValue(value: unknown, keyCase: KeyCase, path: PropertyKey[], findings: ResourceKeyFinding[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => convertStructValue(v, keyCase, [...path, i], findings));
  return isPlainObject(value) ? convertStruct(value, keyCase, path, findings) : value;
}

function convertStruct(
  value: { [key: string]: unknown }, keyCase: KeyCase, path: PropertyKey[], findings: ResourceKeyFinding[],
): { [key: string]: unknown } {
  const out: { [key: string]: unknown } = {};
  for (const [key, v] of Object.entries(value)) {
    const name = propertyName(key, keyCase);
    if (name === undefined) {
      findings.push({
        path: [...path, key],
        problem: PASCAL.test(key) && /[a-z]/.test(key)
          ? `key "${key}" is PascalCase (a CloudFormation property name) inside construct props, so it is not passed`
          : `key "${key}" is not a construct prop name (camelCase or snake_case), so it is not passed`,
        fix: suggestion(key),
      });
      continue;
    }
    if (name in out) {
      findings.push({ path: [...path, key], problem: `key "${key}" names the same prop as another key of this object, so it is not passed`, fix: 'keep one of the two spellings' });
      continue;
    }
    out[name] = convertValue(v, keyCase === 'camel' ? name : camelCase(name), keyCase, [...path, key], findings);
  }
  return out;
}

function isPlainObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A finding as the one-line warning `DdkConfig.warnings` carries. */
export function formatFinding(file: string, finding: ResourceKeyFinding): string {
  return `${file}: ${jsonPath(finding.path)}: ${finding.problem}. Fix: ${finding.fix}`;
}
