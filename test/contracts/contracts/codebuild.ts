import { resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * CodeBuild's documented contract for the projects we render:
 * - "Available runtimes" / "Runtime versions": without `runtime-versions` a build gets the image's
 *   default runtime, which changes over time (standard:7.0 defaults to Node.js 18); the project
 *   needs Node.js 22, so every buildspec pins `phases.install.runtime-versions.nodejs` to a major
 *   version of at least 22 that its image offers;
 * - "Build specification reference": `version: 0.2`;
 * - AWS::CodeBuild::Project: TimeoutInMinutes 5–2160, QueuedTimeoutInMinutes 5–480;
 * - "View build logs" / LogsConfig: without a CloudWatch Logs group of its own, CodeBuild writes to
 *   `/aws/codebuild/<project>`, which it creates without a retention (never expires); each project
 *   names a log group of its template that has a retention (issue 9, item 12).
 * And one contract of the project's own (issue 9, item 10): a buildspec that installs or runs the
 * AWS CDK CLI names an exact version (the one the project pins and tests), never a range or `latest`.
 */

/** The Node.js version the project needs in every build. */
export const REQUIRED_NODE_MAJOR = 22;

/**
 * Node.js major versions each curated CodeBuild image offers through `runtime-versions`
 * ("Available runtimes" in the CodeBuild User Guide). An image not listed here fails the contract:
 * add it from that page.
 */
export const CURATED_IMAGE_NODE_VERSIONS: Record<string, number[]> = {
  'aws/codebuild/standard:7.0': [18, 20, 22],
  'aws/codebuild/amazonlinux-x86_64-standard:5.0': [18, 20, 22],
  'aws/codebuild/amazonlinux2-x86_64-standard:5.0': [18, 20, 22],
  'aws/codebuild/amazonlinux-aarch64-standard:3.0': [18, 20, 22],
  'aws/codebuild/amazonlinux2-aarch64-standard:3.0': [18, 20, 22],
};

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** The parsed buildspec of a project, or why it cannot be read. */
export function buildSpecOf(project: any, resolver: Resolver): { spec?: any; problem?: string } {
  const raw = project?.Source?.BuildSpec;
  if (raw === undefined) return { problem: 'has no inline buildspec (Source.BuildSpec); the build would read buildspec.yml from the source, which this contract cannot check' };
  const text = resolver.string(raw) ?? String(JSON.stringify(resolver.resolveLoosely(raw)));
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    return { problem: /\n/.test(trimmed) ? 'has a YAML buildspec, which this contract cannot read (render buildspecs as JSON)' : `names buildspec file ${show(trimmed)}, which this contract cannot check` };
  }
  try {
    return { spec: JSON.parse(trimmed) };
  } catch (e: any) {
    return { problem: `has a buildspec that is not valid JSON (${e.message})` };
  }
}

/** The Node.js major a runtime-versions value pins, or undefined when it pins none. */
export function pinnedNodeMajor(value: unknown): number | undefined {
  const m = /^(\d+)(\.x|\.\d+(\.\d+)?)?$/.exec(String(value ?? ''));
  return m ? Number(m[1]) : undefined;
}

/** Why the AWS CDK CLI a buildspec command installs or runs is not pinned, if it is not. */
export function cliPinProblem(command: string): string | undefined {
  for (const m of command.matchAll(/(?:^|[\s"'])aws-cdk(?:@(\S+))?(?=$|[\s"'])/g)) {
    const version = m[1];
    if (version === undefined) {
      if (/\b(npm|npx|yarn|pnpm)\b/.test(command)) return `installs the AWS CDK CLI without a version: ${show(command, 100)}`;
    } else if (!/^\d+\.\d+\.\d+$/.test(version.replace(/["']$/, ''))) {
      return `installs AWS CDK CLI version ${show(version)}, not an exact version: ${show(command, 100)}`;
    }
  }
  return undefined;
}

/** Every CodeBuild project of a template: Node.js pinned and offered, timeouts, logs retained. */
export function checkCodeBuild(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  const logGroups = new Map(resourcesOf(stack.template, 'AWS::Logs::LogGroup').map(g => [resolver.ref(g.logicalId), g]));
  for (const p of resourcesOf(stack.template, 'AWS::CodeBuild::Project')) {
    const props = p.properties;
    const image = resolver.string(props.Environment?.Image) ?? '(unresolved image)';
    const { spec, problem } = buildSpecOf(props, resolver);
    if (problem) {
      sink.add('codebuild.buildspec', `${p.logicalId}.Source.BuildSpec`, `project ${problem}`);
    } else {
      if (String(spec.version) !== '0.2') sink.add('codebuild.buildspec', `${p.logicalId}.Source.BuildSpec`, `buildspec version ${show(spec.version)} is not 0.2`);
      const pin = spec?.phases?.install?.['runtime-versions']?.nodejs;
      const major = pinnedNodeMajor(pin);
      if (pin === undefined) {
        sink.add('codebuild.node-runtime', `${p.logicalId}.Source.BuildSpec`,
          `buildspec pins no Node.js version (phases.install.runtime-versions.nodejs); the build runs ${image}'s default Node.js, not ${REQUIRED_NODE_MAJOR}`);
      } else if (major === undefined) {
        sink.add('codebuild.node-runtime', `${p.logicalId}.Source.BuildSpec`, `runtime-versions.nodejs ${show(pin)} pins no major version`);
      } else if (major < REQUIRED_NODE_MAJOR) {
        sink.add('codebuild.node-runtime', `${p.logicalId}.Source.BuildSpec`, `runtime-versions.nodejs pins Node.js ${major}; the project needs ${REQUIRED_NODE_MAJOR} or newer`);
      }
      for (const phase of Object.values<any>(spec?.phases ?? {})) {
        for (const command of phase?.commands ?? []) {
          const cli = typeof command === 'string' ? cliPinProblem(command) : undefined;
          if (cli) sink.add('codebuild.cli-pin', `${p.logicalId}.Source.BuildSpec`, `buildspec ${cli}`);
        }
      }
      const offered = CURATED_IMAGE_NODE_VERSIONS[image];
      if (!offered) {
        sink.add('codebuild.image', `${p.logicalId}.Environment.Image`, `${show(image)} is not a curated image this contract knows the Node.js versions of (add it from "Available runtimes")`);
      } else if (major !== undefined && !offered.includes(major)) {
        sink.add('codebuild.image', `${p.logicalId}.Environment.Image`, `${image} offers Node.js ${offered.join(', ')}, not the pinned ${major}`);
      }
    }
    const timeout = props.TimeoutInMinutes;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 5 || timeout > 2160)) {
      sink.add('codebuild.timeout', `${p.logicalId}.TimeoutInMinutes`, `${show(timeout)} is outside 5–2160 minutes`);
    }
    const queued = props.QueuedTimeoutInMinutes;
    if (queued !== undefined && (!Number.isInteger(queued) || queued < 5 || queued > 480)) {
      sink.add('codebuild.timeout', `${p.logicalId}.QueuedTimeoutInMinutes`, `${show(queued)} is outside 5–480 minutes`);
    }
    const cw = props.LogsConfig?.CloudWatchLogs;
    const s3 = props.LogsConfig?.S3Logs;
    if (cw?.Status === 'DISABLED') {
      if (s3?.Status !== 'ENABLED') sink.add('codebuild.logs', `${p.logicalId}.LogsConfig`, 'build logs are disabled in CloudWatch Logs and S3');
    } else {
      const groupName = cw?.GroupName === undefined ? undefined : resolver.string(cw.GroupName);
      const group = groupName === undefined ? undefined : logGroups.get(groupName);
      if (!group) {
        sink.add('codebuild.logs', `${p.logicalId}.LogsConfig`,
          `build logs go to ${groupName === undefined ? 'CodeBuild\'s default group /aws/codebuild/<project>, which it creates without a retention' : `log group ${show(groupName)}, which this template does not declare`}; name a log group of the template that has RetentionInDays`);
      } else if (group.properties.RetentionInDays === undefined) {
        sink.add('codebuild.logs', `${p.logicalId}.LogsConfig`, `log group ${group.logicalId} has no RetentionInDays: build logs never expire`);
      }
    }
  }
  return sink.findings;
}
