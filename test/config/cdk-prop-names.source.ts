import { readFileSync } from 'fs';
import { dirname, join } from 'path';
import { gunzipSync } from 'zlib';

/*
 * Reads aws-cdk-lib's jsii assembly (the type information jsii generates Python from) and derives
 * the two tables of lib/config/cdk-prop-names.ts. The test compares them with the committed
 * module; `renderModule()` prints the module to commit after an aws-cdk-lib upgrade.
 */

interface TypeRef {
  readonly primitive?: string;
  readonly fqn?: string;
  readonly collection?: { readonly kind: 'array' | 'map'; readonly elementtype: TypeRef };
  readonly union?: { readonly types: TypeRef[] };
}
interface JsiiType {
  readonly fqn: string;
  readonly kind: string;
  readonly datatype?: boolean;
  readonly properties?: { readonly name: string; readonly type: TypeRef }[];
}

/** aws-cdk-lib's assembly (it ships gzipped behind a redirect file). */
export function cdkAssembly(): { types: { [fqn: string]: JsiiType } } {
  const root = dirname(require.resolve('aws-cdk-lib/package.json'));
  const redirect = JSON.parse(readFileSync(join(root, '.jsii'), 'utf-8'));
  const text = redirect.schema === 'jsii/file-redirect'
    ? gunzipSync(readFileSync(join(root, redirect.filename))).toString('utf-8')
    : JSON.stringify(redirect);
  return JSON.parse(text);
}

/** Python names that two aws-cdk-lib props share (`web_acl_id`: `webAclId`, `webACLId`). */
export function sharedPythonNames(toSnake: (s: string) => string): Set<string> {
  const spellings = new Map<string, Set<string>>();
  for (const struct of structs(cdkAssembly())) {
    for (const p of struct.properties ?? []) spellings.set(toSnake(p.name), (spellings.get(toSnake(p.name)) ?? new Set()).add(p.name));
  }
  return new Set([...spellings].filter(([, names]) => names.size > 1).map(([snake]) => snake));
}

/** Every struct (jsii datatype interface) of the assembly. */
export function structs(assembly: { types: { [fqn: string]: JsiiType } }): JsiiType[] {
  return Object.values(assembly.types).filter(t => t.kind === 'interface' && t.datatype === true);
}

/** What a prop's value holds: structs, maps of names whose values are structs, or opaque maps. */
function shapes(assembly: { types: { [fqn: string]: JsiiType } }, t: TypeRef, out = new Set<string>()): Set<string> {
  if (t.union) {
    for (const u of t.union.types) shapes(assembly, u, out);
  } else if (t.collection?.kind === 'array') {
    // a list is converted element by element whatever the prop: its structs never look like a map
    const inner = shapes(assembly, t.collection.elementtype);
    for (const shape of inner) out.add(shape === 'struct' ? 'array-struct' : shape);
  } else if (t.collection?.kind === 'map') {
    const inner = shapes(assembly, t.collection.elementtype);
    out.add(inner.has('struct') || inner.has('array-struct') || inner.has('map-struct') ? 'map-struct' : inner.has('opaque') ? 'map-opaque' : 'map-plain');
  } else if (t.primitive === 'any' || t.primitive === 'json') {
    out.add('opaque');
  } else if (t.fqn) {
    const target = assembly.types[t.fqn];
    if (target?.kind === 'interface' && target.datatype) out.add('struct');
  }
  return out;
}

/**
 * The tables, from the assembly:
 * - acronyms: the snake_case (Python) name → the aws-cdk-lib name, for every struct prop whose
 *   name the plain snake → camel rule does not give back (`enforce_ssl` → `enforceSSL`), unless
 *   another prop has the same Python name;
 * - maps: props of construct structs (L1 `Cfn*` structs left out) whose value is a map of names
 *   the user chooses: `verbatim` (values kept), `struct-values` (values are structs), or
 *   `ambiguous` (an object of props for some constructs, a map of names for others).
 */
export function cdkPropNamesFromJsii(toSnake: (s: string) => string): { acronyms: { [snake: string]: string }; maps: { [name: string]: string } } {
  const assembly = cdkAssembly();
  const plainCamel = (s: string) => s.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const spellings = new Map<string, Set<string>>();
  const seen = new Map<string, Set<string>>();
  for (const struct of structs(assembly)) {
    for (const p of struct.properties ?? []) {
      const snake = toSnake(p.name);
      spellings.set(snake, (spellings.get(snake) ?? new Set()).add(p.name));
      if (/\.Cfn/.test(struct.fqn)) continue;
      const s = seen.get(p.name) ?? new Set<string>();
      for (const shape of shapes(assembly, p.type)) s.add(shape);
      seen.set(p.name, s);
    }
  }
  // A Python name shared by two spellings (`web_acl_id`: `webAclId` and `webACLId`) cannot be
  // mapped back without knowing the construct: it keeps the plain camelCase.
  const acronyms: { [snake: string]: string } = {};
  for (const [snake, names] of spellings) {
    if (names.size === 1 && !names.has(plainCamel(snake))) acronyms[snake] = [...names][0];
  }
  const maps: { [name: string]: string } = {};
  for (const [name, s] of seen) {
    const struct = s.has('struct');
    const mapStruct = s.has('map-struct');
    const opaque = s.has('map-opaque') || s.has('opaque');
    if (!mapStruct && !opaque && !s.has('map-plain')) continue;
    if (!mapStruct && !opaque && struct) maps[name] = 'ambiguous';
    else if (struct || (mapStruct && opaque)) maps[name] = 'ambiguous';
    else maps[name] = mapStruct ? 'struct-values' : 'verbatim';
  }
  return { acronyms: sortKeys(acronyms), maps: sortKeys(maps) };
}

function sortKeys<T>(o: { [k: string]: T }): { [k: string]: T } {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** The text of lib/config/cdk-prop-names.ts for the given tables. */
export function renderModule(tables: { acronyms: { [snake: string]: string }; maps: { [name: string]: string } }, cdkVersion: string): string {
  const lines = [
    `// Generated from aws-cdk-lib ${cdkVersion}'s jsii assembly by test/config/cdk-prop-names.source.ts;`,
    '// test/config/prop-keys.test.ts fails when it no longer matches the installed aws-cdk-lib.',
    '',
    '/** snake_case (jsii\'s Python name) → aws-cdk-lib name, where plain snake → camel gets it wrong. */',
    'export const CDK_ACRONYM_PROP_NAMES: { readonly [snake: string]: string } = {',
    ...Object.entries(tables.acronyms).map(([k, v]) => `  ${k}: '${v}',`),
    '};',
    '',
    '/**',
    ' * Props of aws-cdk-lib construct structs whose value is a map of names the user chooses:',
    ' * `verbatim` (keys and values kept), `struct-values` (keys kept, values are structs), or',
    ' * `ambiguous` (a map for some constructs, a struct of props for others).',
    ' */',
    'export const CDK_NAME_MAP_PROPS: { readonly [name: string]: \'verbatim\' | \'struct-values\' | \'ambiguous\' } = {',
    ...Object.entries(tables.maps).map(([k, v]) => `  ${k}: '${v}',`),
    '};',
    '',
  ];
  return lines.join('\n');
}
