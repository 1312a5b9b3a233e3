#!/usr/bin/env node
/*
 * Synthesis benchmark (a script, not a jest test).
 *
 *   npx ts-node --transpile-only test/bench/benchmark.ts [--sizes 3,12,50,200] [--quick]
 *        [--layouts per-env,one-wave,one-wave-direct] [--strategy cdk-pipelines|codepipeline-trunk|codepipeline-gitflow] [--no-plain] [--no-profile] [--profile-size N] [--timeout S] [--repeat N]
 *
 * For generated ddk.json files of N target environments (plus cicd) in two layouts —
 * `per-env` (one plan stage per environment) and `one-wave` (all environments in one stage) —
 * it synthesizes OUR app (bin/app.ts bundled into dist/app.js, the app command of cdk.json) and a PLAIN aws-cdk-lib/pipelines
 * app (test/bench/plain-app.ts) through the real CDK CLI (`cdk synth --quiet`, same cdk.json
 * context, CloudFormation validation on) and reports wall time, the app's peak RSS, exit status,
 * resources per stack and how close the pipeline stack is to the CloudFormation, S3, KMS, IAM and
 * CodePipeline limits. One untimed warm-up synth per app first; each cell is timed `--repeat` times
 * (default 3 up to 12 environments, 1 above) and the median wall time is reported.
 * Prints tables and writes .bench/results.json.
 *
 * Peak RSS: every node process started under the CLI loads .bench/rss-probe.js (through
 * NODE_OPTIONS), which appends its argv and process.resourceUsage().maxRSS to a file at exit;
 * the app process is the one whose argv names the app's entry file.
 *
 * Unless --no-profile, it then runs our app once directly under `node --cpu-prof` at the largest
 * size, one-wave layout, and summarises where the time goes.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const BENCH = path.join(ROOT, '.bench');
const CDK_CLI = path.join(ROOT, 'node_modules', '.bin', 'cdk');
/** The app command of cdk.json runs the esbuild bundle of bin/app.ts. */
const OUR_ENTRY = 'dist/app.js';
const PLAIN_ENTRY = 'test/bench/plain-app.ts';
const PLAIN_APP = `npx ts-node --transpile-only ${PLAIN_ENTRY}`;
const REGIONS = ['eu-west-1', 'us-east-1', 'eu-central-1'];
const CICD = { account: '100000000000', region: 'eu-west-1' };

/** Service limits the pipeline stack is compared with. */
const LIMITS = {
  templateBytes: 1_048_576, // CloudFormation template body uploaded through S3
  bucketPolicyBytes: 20_480, // S3 bucket policy
  keyPolicyBytes: 32_768, // KMS key policy
  rolePolicyBytes: 10_240, // IAM: aggregate inline policies of one role
  managedPolicyBytes: 6_144, // IAM: one customer managed policy
  managedPoliciesPerRole: 10, // IAM: managed policies attached to one role (default quota, adjustable to 20)
  stages: 50, // CodePipeline stages per pipeline
  actionsPerStage: 50, // CodePipeline actions per stage
};

/** `one-wave-direct`: all environments in one stage, deployed without change sets (`"changeSets": false`). */
type Layout = 'per-env' | 'one-wave' | 'one-wave-direct';
type AppKind = 'ours' | 'plain';

interface Options {
  sizes: number[];
  layouts: Layout[];
  plain: boolean;
  profile: boolean;
  profileSize?: number;
  timeoutSec: number;
  /** Timed runs per cell (the median is reported); undefined: 3 up to 12 environments, else 1. */
  repeat?: number;
  /** The strategy of the generated files (the plain app is CDK Pipelines whatever this is). */
  strategy: string;
}

interface StackMetrics {
  /** Template file, relative to the output dir. */
  readonly file: string;
  readonly resources: number;
  readonly bytes: number;
}

interface Metrics {
  stacks: number;
  pipelineStack?: StackMetrics;
  appStacks: { count: number; maxResources: number; totalResources: number };
  supportStacks: { count: number; maxResources: number; maxBucketPolicyBytes: number; maxKeyPolicyBytes: number };
  pipelineTemplateBytes: number;
  pipelineTemplateMinBytes: number;
  artifactBucketPolicyBytes: number;
  artifactBucketPolicyStatements: number;
  keyPolicyBytes: number;
  keyPolicyStatements: number;
  /** The role with the most inline policy bytes, and the customer managed policies attached to it. */
  largestRole: { logicalId: string; bytes: number; policies: number; managedPolicies: number; largestManagedPolicyBytes: number };
  largestPolicyBytes: number;
  managedPolicies: number;
  stages: number;
  actions: number;
  maxActionsPerStage: number;
}

interface RunResult {
  envs: number;
  layout: Layout;
  app: AppKind;
  config: string;
  status: 'ok' | 'refused' | 'failed' | 'timeout';
  error?: string;
  exitCode: number | null;
  /** Median wall time of the timed runs. */
  wallMs: number;
  /** Wall time of every timed run. */
  wallRunsMs: number[];
  appMaxRssMb?: number;
  cliMaxRssMb?: number;
  /**
   * aws-cdk-lib's own perf counters of the app (ms; `<name>(cnt)` = calls), read from the
   * performance-counters.json the CLI asks the app to write (forced with slowSynthThreshold=0).
   */
  cdkCounters?: Record<string, number>;
  /** 1-minute load average when the (last) run ended: other work on the machine skews times. */
  loadAvg1: number;
  metrics?: Metrics;
}

const USAGE = 'usage: npx ts-node --transpile-only test/bench/benchmark.ts [--sizes 3,12,50,200] [--quick] [--layouts per-env,one-wave,one-wave-direct] [--strategy cdk-pipelines|codepipeline-trunk|codepipeline-gitflow] [--no-plain] [--no-profile|--profile] [--profile-size N] [--timeout S] [--repeat N]';

function parseArgs(argv: string[]): Options {
  const o: Options = { sizes: [3, 12, 50, 200], layouts: ['per-env', 'one-wave'], plain: true, profile: true, timeoutSec: 900, strategy: 'cdk-pipelines' };
  let quick = false;
  let sizesGiven = false;
  let profileGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (flag) {
      case '--quick': quick = true; break;
      case '--sizes': o.sizes = value().split(',').map(x => parseInt(x, 10)); sizesGiven = true; break;
      case '--layouts': o.layouts = value().split(',') as Layout[]; break;
      case '--no-plain': o.plain = false; break;
      case '--strategy': o.strategy = value(); break;
      case '--no-profile': o.profile = false; break;
      case '--profile': o.profile = true; profileGiven = true; break;
      case '--profile-size': o.profileSize = parseInt(value(), 10); o.profile = true; profileGiven = true; break;
      case '--timeout': o.timeoutSec = parseInt(value(), 10); break;
      case '--repeat': o.repeat = parseInt(value(), 10); break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      default: throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (quick) {
    if (!sizesGiven) o.sizes = [3, 12];
    if (!profileGiven) o.profile = false;
  }
  if (o.sizes.some(n => !Number.isInteger(n) || n < 1 || n > 999)) throw new Error('--sizes: integers from 1 to 999');
  for (const l of o.layouts) if (l !== 'per-env' && l !== 'one-wave' && l !== 'one-wave-direct') throw new Error(`--layouts: unknown layout ${l}`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Generated configurations

function envId(i: number): string {
  return `env${String(i).padStart(3, '0')}`;
}

let STRATEGY = 'cdk-pipelines';

function generateConfig(n: number, layout: Layout): string {
  const environments: Record<string, unknown> = { cicd: { ...CICD } };
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const id = envId(i);
    ids.push(id);
    environments[id] = { account: String(200_000_000_000 + i), region: REGIONS[(i - 1) % REGIONS.length] };
  }
  const name = `bench${n}-${layout}`;
  const stages = layout === 'per-env'
    ? ids.map(id => ({ name: id, environments: [id] }))
    : [{ name: 'all', environments: ids }];
  const file = {
    tags: { application: name },
    environments,
    pipeline: {
      name,
      strategy: STRATEGY,
      source: { codecommit: { repository: name, branch: 'main', create: true } },
      ...(layout === 'one-wave-direct' ? { changeSets: false } : {}),
      stages,
    },
  };
  const dir = path.join(BENCH, 'configs');
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, `ddk-${n}-${layout}.json`);
  fs.writeFileSync(p, JSON.stringify(file, undefined, 2));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

const RSS_PROBE = `'use strict';
// Written by test/bench/benchmark.ts: records this node process's peak RSS at exit.
const fs = require('fs');
const out = process.env.BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    try {
      const line = JSON.stringify({ pid: process.pid, argv: process.argv, maxRssKb: process.resourceUsage().maxRSS });
      fs.appendFileSync(out, line + '\\n');
    } catch (e) { /* best effort */ }
  });
}
`;

function ourAppCommand(): string {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf-8'));
  return cdkJson.app;
}

function runSynth(app: AppKind, envs: number, layout: Layout, config: string, opts: Options, label: string): RunResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `ddk-bench-${label}-`));
  const rssFile = path.join(outdir, '..', `${path.basename(outdir)}.rss.jsonl`);
  // slowSynthThreshold=0 only makes aws-cdk-lib always write its perf counters (phase times).
  const args = [CDK_CLI, 'synth', '--quiet', '--no-notices', '-c', `ddkConfig=${config}`, '-c', '@aws-cdk/core.slowSynthThreshold=0', '-o', outdir];
  if (app === 'plain') args.push('--app', PLAIN_APP);
  const probe = path.join(BENCH, 'rss-probe.js');
  const env = {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim(),
    BENCH_RSS_FILE: rssFile,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CI: 'true',
  };
  const t0 = process.hrtime.bigint();
  const r = spawnSync('node', args, { cwd: ROOT, env, encoding: 'utf-8', timeout: opts.timeoutSec * 1000, maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const result: RunResult = { envs, layout, app, config: path.relative(ROOT, config), status: 'ok', exitCode: r.status, wallMs, wallRunsMs: [wallMs], loadAvg1: os.loadavg()[0] };
  const procs = readRss(rssFile);
  const entry = app === 'ours' ? OUR_ENTRY : PLAIN_ENTRY;
  const appProcs = procs.filter(p => p.argv.some(a => a.endsWith(entry)) && !p.argv.some(a => /npx-cli\.js$/.test(a)));
  const cliProcs = procs.filter(p => p.argv[1] !== undefined && /(\.bin\/cdk|aws-cdk\/bin\/cdk)$/.test(p.argv[1]));
  if (appProcs.length > 0) result.appMaxRssMb = Math.max(...appProcs.map(p => p.maxRssKb)) / 1024;
  if (cliProcs.length > 0) result.cliMaxRssMb = Math.max(...cliProcs.map(p => p.maxRssKb)) / 1024;

  if (r.error && (r.error as any).code === 'ETIMEDOUT') {
    result.status = 'timeout';
    result.error = `timed out after ${opts.timeoutSec}s`;
  } else if (r.status !== 0) {
    const refused = firstErrorLine(r.stderr ?? '');
    result.status = /exceed|more than|limit|allows/i.test(refused) ? 'refused' : 'failed';
    result.error = refused;
  }
  if (result.status === 'ok') result.metrics = analyseAssembly(outdir);
  const counters = path.join(outdir, 'performance-counters.json');
  if (fs.existsSync(counters)) result.cdkCounters = JSON.parse(fs.readFileSync(counters, 'utf-8')).counters;
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.rmSync(rssFile, { force: true });
  return result;
}

function readRss(file: string): Array<{ pid: number; argv: string[]; maxRssKb: number }> {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf-8').split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l));
}

/** The first line of the app's error message in the CLI's stderr (not npm or CDK warnings). */
function firstErrorLine(stderr: string): string {
  const noise = [/^npm warn/i, /^\[Warning\]/, /^Subprocess exited/, /^\s*$/, /feature flags are not configured/, /^NOTICES/];
  const line = stderr.split('\n').find(l => !noise.some(re => re.test(l)));
  return (line ?? stderr.trim().split('\n').pop() ?? '').trim();
}

// ---------------------------------------------------------------------------------------------
// Reading the cloud assembly

function templatesIn(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : path.join(rel, e.name);
    if (e.isDirectory() && e.name.startsWith('assembly-')) out.push(...templatesIn(dir, p));
    else if (e.isFile() && e.name.endsWith('.template.json')) out.push(p);
  }
  return out;
}

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v ?? null));
const resourcesOf = (t: any, type: string): Array<[string, any]> =>
  Object.entries<any>(t.Resources ?? {}).filter(([, r]) => r.Type === type);

function analyseAssembly(outdir: string): Metrics {
  const m: Metrics = {
    stacks: 0,
    appStacks: { count: 0, maxResources: 0, totalResources: 0 },
    supportStacks: { count: 0, maxResources: 0, maxBucketPolicyBytes: 0, maxKeyPolicyBytes: 0 },
    pipelineTemplateBytes: 0,
    pipelineTemplateMinBytes: 0,
    artifactBucketPolicyBytes: 0,
    artifactBucketPolicyStatements: 0,
    keyPolicyBytes: 0,
    keyPolicyStatements: 0,
    largestRole: { logicalId: '', bytes: 0, policies: 0, managedPolicies: 0, largestManagedPolicyBytes: 0 },
    largestPolicyBytes: 0,
    managedPolicies: 0,
    stages: 0,
    actions: 0,
    maxActionsPerStage: 0,
  };
  for (const rel of templatesIn(outdir)) {
    const file = path.join(outdir, rel);
    const text = fs.readFileSync(file, 'utf-8');
    const t = JSON.parse(text);
    const resources = Object.keys(t.Resources ?? {}).length;
    const bytes = Buffer.byteLength(text);
    m.stacks++;
    const pipelines = resourcesOf(t, 'AWS::CodePipeline::Pipeline');
    if (!rel.includes(path.sep) && pipelines.length > 0) {
      m.pipelineStack = { file: rel, resources, bytes };
      m.pipelineTemplateBytes = bytes;
      m.pipelineTemplateMinBytes = jsonBytes(t);
      analysePipelineStack(t, pipelines[0][1], m);
    } else if (rel.startsWith('cross-region-stack-')) {
      m.supportStacks.count++;
      m.supportStacks.maxResources = Math.max(m.supportStacks.maxResources, resources);
      for (const [, p] of resourcesOf(t, 'AWS::S3::BucketPolicy')) {
        m.supportStacks.maxBucketPolicyBytes = Math.max(m.supportStacks.maxBucketPolicyBytes, jsonBytes(p.Properties?.PolicyDocument));
      }
      for (const [, k] of resourcesOf(t, 'AWS::KMS::Key')) {
        m.supportStacks.maxKeyPolicyBytes = Math.max(m.supportStacks.maxKeyPolicyBytes, jsonBytes(k.Properties?.KeyPolicy));
      }
    } else {
      m.appStacks.count++;
      m.appStacks.totalResources += resources;
      m.appStacks.maxResources = Math.max(m.appStacks.maxResources, resources);
    }
  }
  return m;
}

function analysePipelineStack(t: any, pipeline: any, m: Metrics): void {
  // Artifact bucket: the pipeline's artifact store in its own region (a Ref into this template).
  const stores = [pipeline.Properties?.ArtifactStore, ...(pipeline.Properties?.ArtifactStores ?? []).map((s: any) => s.ArtifactStore)];
  const bucketIds = new Set(stores.map((s: any) => s?.Location?.Ref).filter((x: any) => typeof x === 'string'));
  const policies = resourcesOf(t, 'AWS::S3::BucketPolicy');
  const artifactPolicy = policies.find(([, p]) => bucketIds.has(p.Properties?.Bucket?.Ref))
    ?? policies.sort(([, a], [, b]) => jsonBytes(b.Properties?.PolicyDocument) - jsonBytes(a.Properties?.PolicyDocument))[0];
  if (artifactPolicy) {
    m.artifactBucketPolicyBytes = jsonBytes(artifactPolicy[1].Properties?.PolicyDocument);
    m.artifactBucketPolicyStatements = artifactPolicy[1].Properties?.PolicyDocument?.Statement?.length ?? 0;
  }
  for (const [, k] of resourcesOf(t, 'AWS::KMS::Key')) {
    const b = jsonBytes(k.Properties?.KeyPolicy);
    if (b > m.keyPolicyBytes) {
      m.keyPolicyBytes = b;
      m.keyPolicyStatements = k.Properties?.KeyPolicy?.Statement?.length ?? 0;
    }
  }
  // IAM: inline policies per role (AWS::IAM::Policy attached by Ref, plus the role's own Policies).
  const perRole = new Map<string, { bytes: number; policies: number }>();
  const add = (role: string, bytes: number) => {
    const e = perRole.get(role) ?? { bytes: 0, policies: 0 };
    e.bytes += bytes;
    e.policies++;
    perRole.set(role, e);
  };
  for (const [, p] of resourcesOf(t, 'AWS::IAM::Policy')) {
    const b = jsonBytes(p.Properties?.PolicyDocument);
    m.largestPolicyBytes = Math.max(m.largestPolicyBytes, b);
    for (const r of p.Properties?.Roles ?? []) if (typeof r?.Ref === 'string') add(r.Ref, b);
  }
  for (const [id, r] of resourcesOf(t, 'AWS::IAM::Role')) {
    for (const p of r.Properties?.Policies ?? []) add(id, jsonBytes(p.PolicyDocument));
  }
  for (const [id, e] of perRole) if (e.bytes > m.largestRole.bytes) m.largestRole = { ...m.largestRole, logicalId: id, ...e };
  // CDK moves what does not fit the 10 KiB inline budget into "OverflowPolicy" managed policies
  // (6,144 bytes each; IAM attaches at most 10 managed policies to a role by default).
  const managed = resourcesOf(t, 'AWS::IAM::ManagedPolicy');
  m.managedPolicies = managed.length;
  const roleManaged = managed.filter(([, p]) => (p.Properties?.Roles ?? []).some((r: any) => r?.Ref === m.largestRole.logicalId));
  m.largestRole.managedPolicies = roleManaged.length;
  m.largestRole.largestManagedPolicyBytes = Math.max(0, ...roleManaged.map(([, p]) => jsonBytes(p.Properties?.PolicyDocument)));
  const stages: any[] = pipeline.Properties?.Stages ?? [];
  m.stages = stages.length;
  m.actions = stages.reduce((s, st) => s + (st.Actions?.length ?? 0), 0);
  m.maxActionsPerStage = Math.max(0, ...stages.map(st => st.Actions?.length ?? 0));
}

// ---------------------------------------------------------------------------------------------
// CPU profile of our app

interface ProfileSummary {
  envs: number;
  layout: Layout;
  wallMs: number;
  exitCode: number | null;
  profileFile: string;
  totalSampledMs: number;
  phases: Array<[string, number]>;
  activities: Array<[string, number]>;
  topSelf: Array<[string, number]>;
  byModule: Array<[string, number]>;
  cdkPerfCounters?: Record<string, number>;
}

function profileOurApp(envs: number, layout: Layout, config: string): ProfileSummary {
  const dir = path.join(BENCH, 'profile');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddk-bench-prof-'));
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf-8'));
  const countersFile = path.join(dir, 'cdk-perf-counters.json');
  const env = {
    ...process.env,
    // slowSynthThreshold 0: aws-cdk-lib always writes its perf counters to CDK_PERF_COUNTERS_FILE.
    CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, 'ddkConfig': config, '@aws-cdk/core.slowSynthThreshold': 0 }),
    CDK_OUTDIR: outdir,
    CDK_PERF_COUNTERS_FILE: countersFile,
    TS_NODE_TRANSPILE_ONLY: 'true',
    TS_NODE_PREFER_TS_EXTS: 'true',
  };
  const t0 = process.hrtime.bigint();
  const r = spawnSync('node', ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '1000', OUR_ENTRY],
    { cwd: ROOT, env, encoding: 'utf-8', maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.rmSync(outdir, { recursive: true, force: true });
  const file = fs.readdirSync(dir).find(f => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile written (exit ${r.status}): ${r.stderr}`);
  const summary = summariseProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf-8')));
  let cdkPerfCounters: Record<string, number> | undefined;
  if (fs.existsSync(countersFile)) cdkPerfCounters = JSON.parse(fs.readFileSync(countersFile, 'utf-8')).counters;
  return { envs, layout, wallMs, exitCode: r.status, profileFile: path.relative(ROOT, path.join(dir, file)), ...summary, cdkPerfCounters };
}

interface CpuNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }

function moduleOf(url: string): string {
  if (url === '') return '(native/vm)';
  if (url.startsWith('node:')) return 'node internals';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = u.slice(nm + 'node_modules/'.length).split('/');
    const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    const rest = parts.slice(parts[0].startsWith('@') ? 2 : 1);
    if (pkg === 'aws-cdk-lib') {
      // e.g. aws-cdk-lib/core/lib/private, aws-cdk-lib/pipelines, aws-cdk-lib/aws-iam
      const sub = rest[0] === 'core' ? rest.slice(0, Math.min(3, rest.length - 1)).join('/') : rest[0];
      return `aws-cdk-lib/${sub}`;
    }
    return pkg;
  }
  const rel = path.relative(ROOT, u);
  return rel.startsWith('..') ? u : path.dirname(rel);
}

function summariseProfile(prof: { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }) {
  const byId = new Map<number, CpuNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) byId.set(n.id, n);
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, prof.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

  type Frame = CpuNode['callFrame'];
  type Matcher = [string, (f: Frame) => boolean];
  const isStageSynth = (f: Frame) => f.functionName === 'synth' && f.url.includes('core/lib/stage.js');
  const isRequire = (f: Frame) => /^(Module\._load|Module\.require|require)$/.test(f.functionName);
  // Phases: everything runs inside the require() of the entry file, so frames are matched only
  // below the entry's own frame. Level 1 = outermost match, level 2 = outermost match below it.
  const LEVEL1: Matcher[] = [
    ['app.synth()', isStageSynth],
    ['construction: DeliveryPipelineStack', f => f.functionName === 'DeliveryPipelineStack'],
    ['construction: DdkConfig / DeliveryPlan', f => f.url.includes('/lib/config/') || f.url.includes('/lib/model/')],
    ['construction: cdk-nag pack', f => f.url.includes('node_modules/cdk-nag/')],
    ['module loading (imports)', isRequire],
  ];
  const LEVEL2: Matcher[] = [
    ['synthNestedAssemblies', f => f.functionName === 'synthNestedAssemblies'],
    ['aspects', f => /^invokeAspects/.test(f.functionName)],
    ['prepareApp', f => f.functionName === 'prepareApp'],
    ['validateTree', f => f.functionName === 'validateTree'],
    ['synthesizeTree (templates)', f => f.functionName === 'synthesizeTree'],
    ['buildAssembly (manifests)', f => f.functionName === 'buildAssembly'],
    ['validateTemplates (CFN default rules + cdk-nag)', f => f.functionName === 'validateTemplates'],
    ['pipeline.buildPipeline() (synthesizes each application stage)', f => f.functionName === 'buildPipeline'],
    ['ApplicationStage constructors', f => f.functionName === 'ApplicationStage'],
    ['ArtifactStore', f => f.functionName === 'ArtifactStore'],
    ['lazy module loading', isRequire],
  ];
  // Activities: inclusive time of samples whose stack (below the entry) has a matching frame; they overlap.
  const ACTIVITIES: Matcher[] = [
    ['Stage.synth (app + nested application stages)', isStageSynth],
    ['validateTemplates (all validation plugins)', f => f.functionName === 'validateTemplates'],
    ['CloudFormation default-rules validation (aws-cdk-lib + @aws/cloudformation-validate wasm)', f => f.url.includes('core/lib/validation/cloudformation-validate-plugin') || f.url.includes('@aws/cloudformation-validate')],
    ['cdk-nag (any frame)', f => f.url.includes('node_modules/cdk-nag/')],
    ['validation report (tree, traces, report file)', f => f.url.includes('core/lib/validation/private/') || f.url.includes('core/lib/validation/report')],
    ['token resolution (core/lib/private/resolve.js)', f => f.url.includes('core/lib/private/resolve.js')],
    ['JSON.stringify / JSON.parse', f => (f.functionName === 'stringify' || f.functionName === 'parse') && f.url === ''],
    ['fs writes / reads', f => /^(writeFileSync|readFileSync|writeSync|readSync|openSync|mkdirSync|readFileUtf8)$/.test(f.functionName)],
    ['aspects (invokeAspects*)', f => /^invokeAspects/.test(f.functionName)],
    ['CompactCrossAccountGrants (lib aspect)', f => f.url.includes('lib/pipelines/compact-grants')],
    ['construct tree walks (findAll)', f => f.functionName === 'findAll'],
    ['module loading (require, incl. ts-node transpile)', isRequire],
    ['ts-node / typescript transpile', f => f.url.includes('node_modules/typescript/') || f.url.includes('node_modules/ts-node/')],
  ];
  const phases = new Map<string, number>();
  const activities = new Map<string, number>();
  const chainCache = new Map<number, { phase: string; acts: string[] }>();
  const outermost = (chain: CpuNode[], matchers: Matcher[]): [string, number] | undefined => {
    for (let i = 0; i < chain.length; i++) {
      for (const [name, test] of matchers) if (test(chain[i].callFrame)) return [name, i];
    }
    return undefined;
  };
  const classify = (id: number) => {
    const hit = chainCache.get(id);
    if (hit) return hit;
    const full: CpuNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) full.push(byId.get(cur)!);
    full.reverse(); // root first
    const entry = full.findIndex(n => n.callFrame.url.endsWith(OUR_ENTRY));
    let res: { phase: string; acts: string[] };
    if (entry < 0) {
      const f = full[full.length - 1].callFrame;
      res = { phase: `outside the app: ${/^\(.*\)$/.test(f.functionName) ? f.functionName : 'node/ts-node startup'}`, acts: [] };
    } else {
      const chain = full.slice(entry + 1);
      const l1 = outermost(chain, LEVEL1);
      const l2 = l1 ? outermost(chain.slice(l1[1] + 1), LEVEL2) : undefined;
      const phase = l1 ? `${l1[0]} > ${l2 ? l2[0] : 'other'}` : 'app top level (other)';
      res = { phase, acts: ACTIVITIES.filter(([, test]) => chain.some(n => test(n.callFrame))).map(([name]) => name) };
    }
    chainCache.set(id, res);
    return res;
  };
  for (const [id, us] of selfUs) {
    const { phase, acts } = classify(id);
    phases.set(phase, (phases.get(phase) ?? 0) + us);
    for (const a of acts) activities.set(a, (activities.get(a) ?? 0) + us);
  }
  // Self time by function and by module; wasm frames are charged to the module that called into wasm.
  const callerModule = (id: number): string => {
    for (let cur: number | undefined = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const u = byId.get(cur)!.callFrame.url;
      if (u !== '' && !u.startsWith('wasm:')) return moduleOf(u);
    }
    return '?';
  };
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const wasm = f.url.startsWith('wasm:');
    const m = f.url === '' ? f.functionName || '(native/vm)' : wasm ? `wasm (called from ${callerModule(id)})` : moduleOf(f.url);
    const where = f.url === '' ? '' : wasm ? ` ${m}` : ` ${m}/${path.basename(f.url)}:${f.lineNumber + 1}`;
    const key = `${f.functionName || '(anonymous)'}${where}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const ms = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, v / 1000] as [string, number]);
  return { totalSampledMs: total / 1000, phases: ms(phases, 50), activities: ms(activities, 50), topSelf: ms(fn, 25), byModule: ms(mod, 20) };
}

// ---------------------------------------------------------------------------------------------
// Output

function table(headers: string[], rows: string[][], alignLeft = 3): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(headers), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const pct = (v: number, limit: number) => `${v.toLocaleString('en-US')} (${((100 * v) / limit).toFixed(0)}%)${v > limit ? ' !!' : ''}`;
const sec = (ms: number) => (ms / 1000).toFixed(1);
const max = (xs: Array<number | undefined>) => {
  const d = xs.filter((x): x is number => x !== undefined);
  return d.length > 0 ? Math.max(...d) : undefined;
};

function render(results: RunResult[]): string {
  const out: string[] = [];
  out.push('Synthesis (cdk synth --quiet through the CLI; wall = median whole CLI run, runs = min-max of repeats; phases and validate = aws-cdk-lib perf counters of that run; RSS = peak of the app / CLI node process)');
  out.push(table(
    ['envs', 'layout', 'app', 'status', 'wall s', 'runs', 'load/construct/synth s', 'validate s (CFN rules)', 'app RSS MB', 'CLI RSS MB', 'stacks', 'pipe res', 'max app res', 'support stk (max res)'],
    results.map(r => [
      String(r.envs), r.layout, r.app, r.status, sec(r.wallMs),
      r.wallRunsMs.length > 1 ? `${sec(Math.min(...r.wallRunsMs))}-${sec(Math.max(...r.wallRunsMs))}` : '-',
      r.cdkCounters ? ['phase:Load', 'phase:Construction', 'phase:Synthesis'].map(k => sec(r.cdkCounters![k] ?? 0)).join(' / ') : '-',
      r.cdkCounters?.validateTemplates !== undefined ? `${sec(r.cdkCounters.validateTemplates)} (${sec(r.cdkCounters['CloudFormationValidate.validate'] ?? 0)})` : '-',
      r.appMaxRssMb !== undefined ? r.appMaxRssMb.toFixed(0) : '-',
      r.cliMaxRssMb !== undefined ? r.cliMaxRssMb.toFixed(0) : '-',
      r.metrics ? String(r.metrics.stacks) : '-',
      r.metrics?.pipelineStack ? String(r.metrics.pipelineStack.resources) : '-',
      r.metrics ? String(r.metrics.appStacks.maxResources) : '-',
      r.metrics ? `${r.metrics.supportStacks.count} (${r.metrics.supportStacks.maxResources})` : '-',
    ]),
  ));
  out.push('');
  out.push('Pipeline stack vs limits (bytes = JSON of the CloudFormation value, intrinsics unresolved; "!!" = over the limit)');
  out.push(table(
    ['envs', 'layout', 'app', 'template B (1 MiB)', 'artifact bkt policy B (20 KiB)', 'KMS key policy B (32 KiB)', 'largest role inline B (10 KiB)', 'its overflow MPs (10) [max B (6 KiB)]', 'stages (50)', 'actions', 'max act/stage (50)', 'support bkt/key policy B'],
    results.filter(r => r.metrics).map(r => {
      const m = r.metrics!;
      return [
        String(r.envs), r.layout, r.app,
        pct(m.pipelineTemplateBytes, LIMITS.templateBytes),
        `${pct(m.artifactBucketPolicyBytes, LIMITS.bucketPolicyBytes)} [${m.artifactBucketPolicyStatements} st]`,
        `${pct(m.keyPolicyBytes, LIMITS.keyPolicyBytes)} [${m.keyPolicyStatements} st]`,
        `${pct(m.largestRole.bytes, LIMITS.rolePolicyBytes)} [${m.largestRole.policies} pol]`,
        `${pct(m.largestRole.managedPolicies, LIMITS.managedPoliciesPerRole)} [${m.largestRole.largestManagedPolicyBytes.toLocaleString('en-US')}]`,
        pct(m.stages, LIMITS.stages),
        String(m.actions),
        pct(m.maxActionsPerStage, LIMITS.actionsPerStage),
        `${m.supportStacks.maxBucketPolicyBytes.toLocaleString('en-US')} / ${m.supportStacks.maxKeyPolicyBytes.toLocaleString('en-US')}`,
      ];
    }),
  ));
  const failed = results.filter(r => r.status !== 'ok');
  if (failed.length > 0) {
    out.push('');
    out.push('Not synthesized:');
    for (const r of failed) out.push(`  ${r.envs} ${r.layout} ${r.app}: ${r.status} (exit ${r.exitCode}) after ${sec(r.wallMs)}s — ${r.error?.split(`${ROOT}/`).join('')}`);
  }
  const ratios = ratioRows(results);
  if (ratios.length > 0) {
    out.push('');
    out.push('Ours / plain');
    out.push(table(['envs', 'layout', 'wall time', 'app RSS', 'pipeline template bytes', 'pipe resources'], ratios.map(r => [String(r.envs), r.layout, r.time, r.rss, r.bytes, r.resources]), 2));
  }
  return out.join('\n');
}

function ratioRows(results: RunResult[]) {
  const rows: Array<{ envs: number; layout: Layout; time: string; rss: string; bytes: string; resources: string }> = [];
  for (const ours of results.filter(r => r.app === 'ours')) {
    const plain = results.find(r => r.app === 'plain' && r.envs === ours.envs && r.layout === ours.layout);
    if (!plain) continue;
    const both = ours.status === 'ok' && plain.status === 'ok';
    const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
    rows.push({
      envs: ours.envs,
      layout: ours.layout,
      time: `${ratio(ours.wallMs, plain.wallMs)}${both ? '' : ` (ours ${ours.status})`}`,
      rss: ratio(ours.appMaxRssMb, plain.appMaxRssMb),
      bytes: both ? ratio(ours.metrics!.pipelineTemplateBytes, plain.metrics!.pipelineTemplateBytes) : 'n/a',
      resources: both ? ratio(ours.metrics!.pipelineStack?.resources, plain.metrics!.pipelineStack?.resources) : 'n/a',
    });
  }
  return rows;
}

function renderProfile(p: ProfileSummary): string {
  const out: string[] = [];
  const rows = (list: Array<[string, number]>, n = list.length) => list.slice(0, n).map(([k, v]) => [k, v.toFixed(0), `${((100 * v) / p.totalSampledMs).toFixed(1)}%`]);
  out.push(`CPU profile: our app, ${p.envs} envs, ${p.layout} (node --cpu-prof, run directly; wall ${sec(p.wallMs)}s, exit ${p.exitCode}, sampled ${sec(p.totalSampledMs)}s; ${p.profileFile})`);
  out.push('');
  out.push(table(['phase (outermost frame below the entry > next)', 'ms', 'share'], rows(p.phases), 1));
  out.push('');
  out.push(table(['activity (inclusive, overlapping)', 'ms', 'share'], rows(p.activities), 1));
  out.push('');
  out.push(table(['top self time: function module/file:line', 'ms', 'share'], rows(p.topSelf, 20), 1));
  out.push('');
  out.push(table(['self time by module', 'ms', 'share'], rows(p.byModule, 15), 1));
  if (p.cdkPerfCounters) {
    const c = Object.entries(p.cdkPerfCounters).filter(([k]) => !k.endsWith('(cnt)')).sort((a, b) => b[1] - a[1]).slice(0, 12);
    out.push('');
    out.push(table(['aws-cdk-lib perf counters (CDK_PERF_COUNTERS_FILE)', 'ms', 'calls'], c.map(([k, v]) => [k, String(v), String(p.cdkPerfCounters![`${k}(cnt)`] ?? '')]), 1));
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  STRATEGY = opts.strategy;
  fs.mkdirSync(BENCH, { recursive: true });
  fs.writeFileSync(path.join(BENCH, 'rss-probe.js'), RSS_PROBE);
  const cliVersion = spawnSync('node', [CDK_CLI, '--version'], { cwd: ROOT, encoding: 'utf-8', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } }).stdout.trim();
  const libVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf-8')).version;
  const nagVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'cdk-nag', 'package.json'), 'utf-8')).version;
  const machine = {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cdkCli: cliVersion,
    awsCdkLib: libVersion,
    cdkNag: nagVersion,
  };
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`ddk-pipelines synth benchmark — ${new Date().toISOString()}`);
  log(`machine: nproc=${machine.nproc} (${machine.cpu}), ${machine.memGb} GiB, node ${machine.node}, ${machine.platform}, load average ${os.loadavg().map(x => x.toFixed(2)).join(' ')}`);
  log(`cdk CLI ${machine.cdkCli}, aws-cdk-lib ${machine.awsCdkLib}, cdk-nag ${machine.cdkNag}`);
  log(`sizes ${opts.sizes.join(',')} × layouts ${opts.layouts.join(',')} × apps ${opts.plain ? 'ours,plain' : 'ours'}; regions ${REGIONS.join(',')}; cicd ${CICD.account}/${CICD.region}`);
  log(`ours: cdk.json app "${ourAppCommand()}"; plain: --app "${PLAIN_APP}"`);
  log('');

  const started = Date.now();
  const apps: AppKind[] = opts.plain ? ['ours', 'plain'] : ['ours'];
  // Warm-up (untimed): the smallest size, each app once.
  const warm = generateConfig(Math.min(...opts.sizes), opts.layouts[0]);
  for (const app of apps) {
    const w = runSynth(app, 0, opts.layouts[0], warm, opts, `warmup-${app}`);
    log(`warm-up ${app}: ${w.status} in ${sec(w.wallMs)}s${w.error ? ` — ${w.error}` : ''}`);
  }

  const results: RunResult[] = [];
  for (const n of opts.sizes) {
    for (const layout of opts.layouts) {
      const config = generateConfig(n, layout);
      for (const app of apps) {
        const repeat = opts.repeat ?? (n <= 12 ? 3 : 1);
        const runs: RunResult[] = [];
        for (let i = 0; i < repeat; i++) runs.push(runSynth(app, n, layout, config, opts, `${n}-${layout}-${app}`));
        const walls = runs.map(x => x.wallMs);
        const median = [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((runs.length - 1) / 2)];
        const r: RunResult = {
          ...median,
          wallRunsMs: walls,
          appMaxRssMb: max(runs.map(x => x.appMaxRssMb)),
          cliMaxRssMb: max(runs.map(x => x.cliMaxRssMb)),
        };
        results.push(r);
        const m = r.metrics;
        log(`  ${String(n).padStart(3)} ${layout.padEnd(8)} ${app.padEnd(5)} ${r.status.padEnd(7)} ${sec(r.wallMs).padStart(6)}s`
          + (walls.length > 1 ? ` (runs ${walls.map(sec).join('/')})` : '')
          + (r.appMaxRssMb ? `  rss ${r.appMaxRssMb.toFixed(0)} MB` : '')
          + `  load ${r.loadAvg1.toFixed(1)}`
          + (m ? `  template ${m.pipelineTemplateBytes.toLocaleString('en-US')} B, ${m.stages} stages` : '')
          + (r.error ? `  — ${r.error.slice(0, 120).split(`${ROOT}/`).join('')}…` : ''));
      }
    }
  }
  log('');
  log(render(results));

  let profile: ProfileSummary | undefined;
  if (opts.profile) {
    const n = opts.profileSize ?? Math.max(...opts.sizes);
    log('');
    profile = profileOurApp(n, 'one-wave', generateConfig(n, 'one-wave'));
    log(renderProfile(profile));
  }
  const totalSec = (Date.now() - started) / 1000;
  log('');
  log(`total ${totalSec.toFixed(0)}s; results in ${path.relative(ROOT, path.join(BENCH, 'results.json'))}`);
  fs.writeFileSync(path.join(BENCH, 'results.json'), JSON.stringify({
    generatedAt: new Date().toISOString(),
    machine,
    limits: LIMITS,
    options: opts,
    totalSec,
    results,
    ratios: ratioRows(results),
    profile,
  }, undefined, 2));
}

main();
