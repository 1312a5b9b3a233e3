// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with fflate, into dist/lambda/change-review; the library entry point never loads it
import { unzipSync } from 'fflate';
import { isObj, show, str } from '../input-values';

/*
 * Reading a zipped cloud assembly (the synth artifact: `cdk.out` as CodeBuild zips it) for the
 * change review: only the `manifest.json` of the nested assemblies asked for and the templates of
 * their stacks are inflated; every other entry (assets, other stages' assemblies) is skipped.
 * Pure: bytes in, stacks out; no SDK.
 *
 * A nested assembly's manifest lists its stacks as artifacts of type `aws:cloudformation:stack`
 * (the cloud-assembly schema): `environment` "aws://<account>/<region>", `properties.templateFile`
 * (relative to the assembly's directory), `properties.stackName` (the artifact id when absent) and
 * `properties.lookupRole.arn`.
 */

/** The artifact type of a CloudFormation stack in a cloud-assembly manifest. */
export const STACK_ARTIFACT_TYPE = 'aws:cloudformation:stack';

/** A CloudFormation template as JSON. */
export type Template = Record<string, unknown>;

/** One stack of a nested assembly, with its synthesized template. */
export interface AssemblyStack {
  /** The artifact id in the manifest. */
  readonly artifactId: string;
  readonly stackName: string;
  /** The template file, relative to the nested assembly's directory. */
  readonly templateFile: string;
  /** From `environment` "aws://account/region"; undefined when environment-agnostic. */
  readonly account?: string;
  readonly region?: string;
  /** `properties.lookupRole.arn` as the manifest has it (may hold `${AWS::Partition}`). */
  readonly lookupRoleArn?: string;
  readonly template: Template;
}

/** One nested assembly read from the artifact. */
export interface NestedAssembly {
  /** The assembly as asked for (e.g. `assembly-dev`). */
  readonly assembly: string;
  /** Its directory inside the zip (e.g. `cdk.out/assembly-dev`). */
  readonly directory: string;
  readonly stacks: AssemblyStack[];
}

/** The artifact is not a readable cloud assembly, or lacks what is asked for. */
export class CloudAssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudAssemblyError';
  }
}

function normalize(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** The zip's entry names, without inflating any entry. */
export function zipEntryNames(zip: Uint8Array): string[] {
  const names: string[] = [];
  try {
    unzipSync(zip, { filter: (f) => { names.push(f.name); return false; } });
  } catch (e) {
    throw new CloudAssemblyError(`the artifact is not a readable zip (${(e as Error).message})`);
  }
  return names;
}

function inflate(zip: Uint8Array, wanted: ReadonlySet<string>): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, { filter: (f) => wanted.has(normalize(f.name)) });
  } catch (e) {
    throw new CloudAssemblyError(`the artifact is not a readable zip (${(e as Error).message})`);
  }
  for (const [name, data] of Object.entries(files)) found.set(normalize(name), data);
  return found;
}

/**
 * The directory of a nested assembly inside the zip: `assembly` as given, or under `cdk.out/`,
 * or without its `cdk.out/` prefix (the artifact's root may be `cdk.out` itself or its parent).
 */
export function assemblyDirectory(entries: ReadonlySet<string>, assembly: string): string | undefined {
  const a = normalize(assembly);
  const candidates = [a, `cdk.out/${a}`, a.replace(/^cdk\.out\//, '')];
  return candidates.find((dir) => entries.has(dir === '' ? 'manifest.json' : `${dir}/manifest.json`));
}

function join(dir: string, file: string): string {
  return normalize(dir === '' ? file : `${dir}/${file}`);
}

function parseJson(data: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (e) {
    throw new CloudAssemblyError(`${where} is not JSON (${(e as Error).message})`);
  }
}

/** `aws://account/region` as account and region; unknown-account/unknown-region as undefined. */
export function parseEnvironment(environment: unknown): { account?: string; region?: string } {
  const m = typeof environment === 'string' ? /^aws:\/\/([^/]+)\/([^/]+)$/.exec(environment) : null;
  if (!m) return {};
  return {
    account: /^\d{12}$/.test(m[1]) ? m[1] : undefined,
    region: m[2] === 'unknown-region' ? undefined : m[2],
  };
}

interface StackEntry {
  readonly artifactId: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly account?: string;
  readonly region?: string;
  readonly lookupRoleArn?: string;
}

/** The stack artifacts of a parsed nested manifest (`where` names it in errors). */
export function stacksOfManifest(manifest: unknown, where: string): StackEntry[] {
  if (!isObj(manifest)) throw new CloudAssemblyError(`${where} is not a cloud-assembly manifest (got ${show(manifest)})`);
  const artifacts = manifest.artifacts ?? {};
  if (!isObj(artifacts)) throw new CloudAssemblyError(`${where}: "artifacts" is not an object (got ${show(artifacts)})`);
  const stacks: StackEntry[] = [];
  for (const [artifactId, artifact] of Object.entries(artifacts)) {
    if (!isObj(artifact) || artifact.type !== STACK_ARTIFACT_TYPE) continue;
    const props = isObj(artifact.properties) ? artifact.properties : {};
    const templateFile = str(props.templateFile);
    if (!templateFile) throw new CloudAssemblyError(`${where}: artifacts.${artifactId}.properties.templateFile is missing; expected the stack's template file`);
    const lookupRole = isObj(props.lookupRole) ? str(props.lookupRole.arn) : undefined;
    stacks.push({
      artifactId,
      stackName: str(props.stackName) ?? artifactId,
      templateFile,
      ...parseEnvironment(artifact.environment),
      ...(lookupRole ? { lookupRoleArn: lookupRole } : {}),
    });
  }
  return stacks;
}

/**
 * The stacks (with templates) of the nested assemblies `assemblies` of a zipped cloud assembly.
 * Inflates only their `manifest.json` and the templates they list.
 *
 * @throws CloudAssemblyError when the zip is unreadable, an assembly is missing, or a manifest or
 *   template is not JSON
 */
export function readNestedAssemblies(zip: Uint8Array, assemblies: readonly string[]): NestedAssembly[] {
  const entries = new Set(zipEntryNames(zip).map(normalize));
  const dirs = assemblies.map((assembly) => {
    const directory = assemblyDirectory(entries, assembly);
    if (directory === undefined) {
      const present = [...entries].filter((e) => /(^|\/)assembly-[^/]+\/manifest\.json$/.test(e)).map((e) => e.replace(/\/manifest\.json$/, ''));
      throw new CloudAssemblyError(`the cloud assembly has no nested assembly "${assembly}" (looked for ${assembly}/manifest.json and cdk.out/${assembly}/manifest.json; `
        + `it has ${present.length ? present.slice(0, 10).join(', ') : 'none'}). The stage's targets must match the app's stages: synthesize the app with the delivery pipeline's stages`);
    }
    return { assembly, directory };
  });
  const manifests = inflate(zip, new Set(dirs.map((d) => join(d.directory, 'manifest.json'))));
  const listed = dirs.map((d) => {
    const path = join(d.directory, 'manifest.json');
    return { ...d, stacks: stacksOfManifest(parseJson(manifests.get(path)!, path), path) };
  });
  const templates = inflate(zip, new Set(listed.flatMap((d) => d.stacks.map((s) => join(d.directory, s.templateFile)))));
  return listed.map((d) => ({
    assembly: d.assembly,
    directory: d.directory,
    stacks: d.stacks.map((s) => {
      const path = join(d.directory, s.templateFile);
      const data = templates.get(path);
      if (!data) throw new CloudAssemblyError(`${join(d.directory, 'manifest.json')} lists stack ${s.stackName} with template ${s.templateFile}, which the artifact does not hold`);
      const template = parseJson(data, path);
      if (!isObj(template)) throw new CloudAssemblyError(`${path} is not a CloudFormation template (got ${show(template)})`);
      return { ...s, template };
    }),
  }));
}
