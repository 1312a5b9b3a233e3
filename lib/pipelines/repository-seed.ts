/*
 * Repository seeding: the decisions, with no aws-cdk-lib and no AWS SDK.
 *
 * Shared by the `RepositorySeeder` construct (which validates its props with it and writes the
 * custom resource's properties in the `RepositorySeedSpec` shape) and by the handler in
 * lambda/seed-repository (which parses those properties and executes the plan).
 */

/** The custom resource type of the seed. */
export const SEED_RESOURCE_TYPE = 'Custom::DdkRepositorySeed';

/** A file of the initial commit. */
export interface SeedFile {
  /** Path in the repository, relative, `/`-separated (e.g. `ddk.json`, `docs/README.md`). */
  readonly path: string;
  /** UTF-8 text content. */
  readonly content: string;
}

/**
 * What a seeded repository should contain: the properties of the seeding custom resource.
 *
 * Keys are camelCase on purpose: the construct writes them and the handler reads them.
 */
export interface RepositorySeedSpec {
  /** Name of the CodeCommit repository. */
  readonly repositoryName: string;
  /** Files of the initial commit, sorted by path. */
  readonly files: SeedFile[];
  /** Branches that must exist, besides `defaultBranch`. */
  readonly branches: string[];
  /** The branch of the initial commit, from whose head missing branches are created. */
  readonly defaultBranch: string;
  /** Message of the initial commit. */
  readonly commitMessage: string;
  /** Author (and committer) name of the initial commit. */
  readonly authorName: string;
}

/** What the handler found in the repository. */
export interface RepositoryState {
  /** Names of the branches that exist; empty for an empty repository. */
  readonly branches: string[];
  /**
   * The repository's default branch.
   *
   * @default - none (CodeCommit reports none for an empty repository)
   */
  readonly defaultBranch?: string;
}

/** The CloudFormation request types a seed answers. */
export enum SeedRequestType {
  /** The custom resource is created. */
  CREATE = 'Create',
  /** Its properties changed (e.g. a branch was added). */
  UPDATE = 'Update',
  /** It is deleted (stack deletion or replacement): nothing is done. */
  DELETE = 'Delete',
}

/** Kinds of seeding action. */
export enum SeedActionType {
  /** Create the initial commit (the seed files) on an empty repository, creating its first branch. */
  CREATE_INITIAL_COMMIT = 'CREATE_INITIAL_COMMIT',
  /** Create a branch pointing at the head of another branch. */
  CREATE_BRANCH = 'CREATE_BRANCH',
}

/** One step of a seed plan, executed in order. */
export interface SeedAction {
  /** What to do. */
  readonly type: SeedActionType;
  /** The branch created (by the initial commit, or as a new branch). */
  readonly branch: string;
  /**
   * For `CREATE_BRANCH`: the branch whose head commit the new branch points at (the initial
   * commit when an earlier action of the same plan created it).
   *
   * @default - none (`CREATE_INITIAL_COMMIT`)
   */
  readonly fromBranch?: string;
}

/** The outcome of planning: the actions, and what is deliberately left alone. */
export interface SeedPlan {
  /** Actions in execution order; empty when there is nothing to do. */
  readonly actions: SeedAction[];
  /** Wanted branches that already exist: never moved, never overwritten. */
  readonly existingBranches: string[];
}

/** Longest branch name CodeCommit accepts, in characters. */
const MAX_BRANCH_NAME = 256;
/**
 * Total size of seed file contents accepted, in bytes: they travel in the CloudFormation template
 * and in the asynchronous Lambda invocation event (256 KB at most, with everything else), so the
 * seed is for small files (ddk.json, a README); push anything larger with git.
 */
const MAX_SEED_BYTES = 128 * 1024;

/**
 * Plans the seeding of a CodeCommit repository, and validates what is asked.
 *
 * The rules: the initial commit is created only when the repository has no branch at all (a
 * user's commits are never overwritten); each wanted branch that is missing is created from the
 * head of `defaultBranch` (or of the repository's own default branch when `defaultBranch` does
 * not exist there); existing branches are left untouched; a `Delete` request does nothing, so
 * neither branches nor the repository are removed with the stack. Planning depends only on the
 * repository's current state, so re-running a request is harmless.
 */
export class RepositorySeedPlanner {
  /** The branches `spec` wants, the default branch first, each once. */
  public static wantedBranches(spec: RepositorySeedSpec): string[] {
    return [...new Set([spec.defaultBranch, ...spec.branches])];
  }

  /** Computes the actions that bring a repository in `state` to what `spec` asks for. */
  public static plan(requestType: SeedRequestType, state: RepositoryState, spec: RepositorySeedSpec): SeedPlan {
    if (requestType === SeedRequestType.DELETE) {
      return { actions: [], existingBranches: [] };
    }
    const wanted = RepositorySeedPlanner.wantedBranches(spec);
    const present = new Set(state.branches);
    const existingBranches = wanted.filter(b => present.has(b));
    const missing = wanted.filter(b => !present.has(b));

    if (present.size === 0) {
      // empty repository: the seed commit creates the default branch; the others start from it
      const others = missing.filter(b => b !== spec.defaultBranch);
      return {
        actions: [
          { type: SeedActionType.CREATE_INITIAL_COMMIT, branch: spec.defaultBranch },
          ...others.map(b => ({ type: SeedActionType.CREATE_BRANCH, branch: b, fromBranch: spec.defaultBranch })),
        ],
        existingBranches,
      };
    }

    if (missing.length === 0) {
      return { actions: [], existingBranches };
    }
    const source = RepositorySeedPlanner.sourceBranch(state, spec);
    return {
      actions: missing.map(b => ({ type: SeedActionType.CREATE_BRANCH, branch: b, fromBranch: source })),
      existingBranches,
    };
  }

  /**
   * Problems of a seed request, one message each (empty when valid): file paths, branch names,
   * sizes. `where` prefixes each message (e.g. the construct path).
   */
  public static problems(spec: RepositorySeedSpec, where: string): string[] {
    const out: string[] = [];
    if (spec.files.length === 0) {
      out.push(`${where}: files is empty; expected at least one file, since the initial commit cannot be empty. Fix: pass e.g. { 'README.md': '# my app' }`);
    }
    const seen = new Set<string>();
    for (const f of spec.files) {
      const why = pathProblem(f.path);
      if (why) out.push(`${where}: files: "${f.path}" ${why}; expected a relative path like "ddk.json" or "docs/README.md". Fix: rename the file`);
      if (seen.has(f.path)) out.push(`${where}: files: "${f.path}" is given twice. Fix: keep one`);
      seen.add(f.path);
    }
    const bytes = spec.files.reduce((n, f) => n + Buffer.byteLength(f.content, 'utf8'), 0);
    if (bytes > MAX_SEED_BYTES) {
      out.push(`${where}: files: ${bytes} bytes of content; expected at most ${MAX_SEED_BYTES} bytes, as they travel in the CloudFormation template and the Lambda event. Fix: seed only small files (ddk.json, a README) and push the rest with git`);
    }
    for (const [prop, name] of [['defaultBranch', spec.defaultBranch] as const, ...spec.branches.map(b => ['branches', b] as const)]) {
      const why = branchProblem(name);
      if (why) out.push(`${where}: ${prop}: "${name}" ${why}; expected a git branch name like "main" or "release/1.0". Fix: rename the branch`);
    }
    if (spec.commitMessage.length === 0) {
      out.push(`${where}: commitMessage is empty. Fix: give a message or leave the default`);
    }
    return out;
  }

  /**
   * Reads the custom resource's properties, as CloudFormation delivers them, into a spec.
   *
   * @throws an error listing every problem when they are not a valid spec
   */
  public static parseProperties(properties: any): RepositorySeedSpec {
    const p = properties ?? {};
    const problems: string[] = [];
    const str = (key: string): string => {
      if (typeof p[key] !== 'string' || p[key] === '') problems.push(`${key}: expected a non-empty string, got ${JSON.stringify(p[key])}`);
      return String(p[key] ?? '');
    };
    const repositoryName = str('repositoryName');
    const defaultBranch = str('defaultBranch');
    const commitMessage = str('commitMessage');
    const authorName = str('authorName');
    let branches: string[] = [];
    if (!Array.isArray(p.branches) || p.branches.some((b: unknown) => typeof b !== 'string')) {
      problems.push(`branches: expected a list of strings, got ${JSON.stringify(p.branches)}`);
    } else {
      branches = p.branches;
    }
    let files: SeedFile[] = [];
    if (!Array.isArray(p.files) || p.files.some((f: any) => typeof f?.path !== 'string' || typeof f?.content !== 'string')) {
      problems.push('files: expected a list of { path, content } strings');
    } else {
      files = p.files.map((f: any) => ({ path: f.path, content: f.content }));
    }
    if (problems.length === 0) {
      const spec = { repositoryName, files, branches, defaultBranch, commitMessage, authorName };
      problems.push(...RepositorySeedPlanner.problems(spec, 'properties'));
      if (problems.length === 0) return spec;
    }
    throw new Error(`ddk-pipelines: invalid repository seed properties (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
  }

  /** The branch whose head new branches start from, in a repository that has branches. */
  private static sourceBranch(state: RepositoryState, spec: RepositorySeedSpec): string {
    if (state.branches.includes(spec.defaultBranch)) return spec.defaultBranch;
    if (state.defaultBranch !== undefined && state.branches.includes(state.defaultBranch)) return state.defaultBranch;
    // CodeCommit always reports a default branch once a branch exists, and refuses to delete it.
    throw new Error(`ddk-pipelines: repository ${spec.repositoryName} has branches (${state.branches.join(', ')}) but neither "${spec.defaultBranch}" nor a default branch to create the missing ones from. Fix: create "${spec.defaultBranch}" in the repository, then retry the deployment`);
  }
}

/** Longest list `cutList` returns before its "more" note, in characters. */
const MAX_LISTED = 1000;

/**
 * Names, comma-separated, cut to 1,000 characters (whole names only, then `…(+N more)`): a
 * custom-resource response over 4,096 bytes is refused by CloudFormation, which would fail a
 * request that succeeded. The full lists belong in the logs.
 */
export function cutList(names: string[]): string {
  const all = names.join(',');
  if (all.length <= MAX_LISTED) return all;
  const cut = all.slice(0, MAX_LISTED);
  const kept = cut.slice(0, Math.max(0, cut.lastIndexOf(','))).split(',').filter(n => n !== '');
  return `${kept.join(',')},…(+${names.length - kept.length} more)`;
}

/** Why `path` cannot be a seed file path, or undefined when it can. */
function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(path)) return 'contains a control character';
  const parts = path.split('/');
  if (parts.some(s => s === '')) return 'has an empty segment (a trailing or doubled "/")';
  if (parts.some(s => s === '.' || s === '..')) return 'has a "." or ".." segment';
  if (parts[0] === '.git') return 'is inside .git';
  return undefined;
}

/** Why `name` cannot be a CodeCommit branch name (its quotas and git-check-ref-format), or undefined. */
function branchProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_BRANCH_NAME) return `has ${name.length} characters (at most ${MAX_BRANCH_NAME})`;
  if (/^[0-9a-fA-F]{40}$/.test(name)) return 'looks like a commit id (40 hexadecimal characters)';
  if (name === '@') return 'is "@"';
  if (/^[/.]|[/.]$/.test(name)) return 'begins or ends with "/" or "."';
  if (name.startsWith('-')) return 'begins with "-"';
  if (name.includes('..') || name.includes('//') || name.includes('@{')) return 'contains "..", "//" or "@{"';
  // eslint-disable-next-line no-control-regex
  if (/[\s?^*[\\~:\u0000-\u001f\u007f]/.test(name)) return 'contains a space, a control character or one of ? ^ * [ \\ ~ :';
  if (name.endsWith('.lock') || name.split('/').some(s => s.startsWith('.'))) return 'has a segment starting with "." or ending with ".lock"';
  return undefined;
}
