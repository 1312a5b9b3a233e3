import { checkOutput } from './check-all';
import { Finding, formatFindings } from './findings';
import { checkGuardRules } from './guard';
import { synthesizeDdk, SynthOutput } from './synthesize';
import { exampleDdkJson } from '../helpers';
import { fooDocument } from '../releases/fixtures';

/*
 * Hand-picked configurations, synthesized as `cdk synth` does (aws-cdk-lib's CloudFormation
 * validation on, cdk-nag's AwsSolutions pack registered) and held to every contract, the access
 * simulation and AWS Control Tower's guard rules: the repository's example ddk.json with each
 * strategy, varied towards what the example does not show (connection sources with both ARN
 * forms, a gated stage with many long required checks, a target in the CICD account, review
 * deployments from CodeCommit and from a connection, deployment safety: windows, a change review,
 * target and CICD-account alarms), and release brackets (the foo story of
 * issue 12 with a created repository, a codestar-connections ARN, a gated per-service stage and
 * an approval before a bracket stage). The guard
 * rules run once over all three outputs (cfn-guard's cost is per rule, hardly per template).
 */

const STRATEGIES = ['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'];

function variant(strategy: string): any {
  const doc = exampleDdkJson();
  doc.pipeline.strategy = strategy;
  if (strategy === 'cdk-pipelines') {
    // review deployments from CodeCommit pull requests, with tests and a URL output
    doc.pipeline.review = { environment: 'dev', tests: ['npm run e2e'], urlOutput: 'ReviewUrl' };
  }
  if (strategy === 'codepipeline-trunk') {
    doc.pipeline.source = { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0b1d7c2e-6c11-4d3e-9b59-1a2b3c4d5e6f', repository: 'example-org/myapp', branch: 'main' } };
    doc.pipeline.stages[1].requiredChecks = Array.from({ length: 20 }, (_, i) => `ci/integration-suite-${i}-${'long-name-'.repeat(4)}`);
    // review deployments from the connection's pull requests (the review pipelines), into a production account
    doc.pipeline.review = { environment: 'prod-us', branches: ['main', 'release/2.0'] };
  }
  if (strategy === 'codepipeline-gitflow') {
    doc.pipeline.source = { connection: { arn: 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/0b1d7c2e-6c11-4d3e-9b59-1a2b3c4d5e6f', repository: 'example-org/myapp' } };
    doc.environments.dev.account = '111111111111';
  }
  // deployment safety (issue 13) in every strategy: production reviewed, windowed, watched in
  // its targets and in the CICD account
  doc.environments['prod-eu'].alarms = ['prod-eu-5xx'];
  Object.assign(doc.pipeline.stages[1], {
    changeReview: true,
    window: [{ cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' }, { cron: '* * * ? * *' }],
    alarms: { names: ['api-errors'], cicd: ['pipeline-health'], soakMinutes: 20 },
  });
  return doc;
}

/** Release brackets: the foo story, varied towards what it does not show. */
function services(): any {
  const doc = fooDocument();
  doc.pipeline.services['foobar-frontend'].source.codecommit.create = true;
  doc.pipeline.services['foobar-backend'].source.connection.arn = 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/0b1d7c2e-6c11-4d3e-9b59-1a2b3c4d5e6f';
  doc.pipeline.stages[0].requiredChecks = ['ci/unit'];
  doc.pipeline.stages[2].approval = true;
  return doc;
}
const SERVICES = 'codepipeline-trunk with services';

const outputs = new Map<string, SynthOutput>();
let guardFindings: Finding[] = [];
beforeAll(() => {
  for (const strategy of STRATEGIES) outputs.set(strategy, synthesizeDdk(variant(strategy), { validation: 'full' }));
  outputs.set(SERVICES, synthesizeDdk(services(), { validation: 'full' }));
  guardFindings = checkGuardRules([...outputs.values()].flatMap(o => o.stacks));
}, 240_000);
afterAll(() => outputs.forEach(o => o.dispose()));

test.each(STRATEGIES)('%s: every template keeps every contract, the access simulation and the guard rules', async strategy => {
  const out = outputs.get(strategy)!;
  const findings = [
    ...(await checkOutput(out, { guard: false })),
    ...guardFindings.filter(f => out.stacks.some(s => s.templateFile === f.templateFile)),
  ];
  if (findings.length > 0) throw new Error(`${findings.length} contract finding(s):\n${formatFindings(findings)}`);
  // the checks had something to check: one application stack per target besides the CICD stack
  expect(out.stacks.filter(s => s.kind === 'application')).toHaveLength(out.plan.targets.length);
}, 120_000);

test(`${SERVICES}: every template keeps every contract, the access simulation and the guard rules`, async () => {
  const out = outputs.get(SERVICES)!;
  const findings = [
    ...(await checkOutput(out, { guard: false })),
    ...guardFindings.filter(f => out.stacks.some(s => s.templateFile === f.templateFile)),
  ];
  if (findings.length > 0) throw new Error(`${findings.length} contract finding(s):\n${formatFindings(findings)}`);
  // the checks had something to check: the CICD stack alone (each service's app has the application stacks), three pipelines
  expect(out.stacks.map(s => s.kind)).toEqual(['cicd']);
  const pipelines = Object.values<any>(out.stacks[0].template.Resources).filter(r => r.Type === 'AWS::CodePipeline::Pipeline').map(r => r.Properties.Name);
  expect(pipelines).toEqual(['foo-foobar-frontend', 'foo-foobar-backend', 'foo-release']);
}, 120_000);
