/*
 * pipeline.services and stages[].bracket: the foo story's ddk.json, its validation messages and
 * its release plan (no CloudFormation).
 */
import { FOO_CONNECTION_ARN as CONNECTION_ARN, fooDocument } from './fixtures';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan, SourceKind } from '../../lib/model';
import { FILE, issuesOf, onlyIssue } from '../config/helpers';

function withPipeline(change: (p: any) => void): any {
  const doc = fooDocument();
  change(doc.pipeline);
  return doc;
}

describe('the release plan of the foo story', () => {
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(fooDocument(), FILE));

  test('is valid', () => {
    expect(issuesOf(fooDocument())).toEqual([]);
  });

  test('each service has its own source and synth commands (the pipeline\'s by default); a CodeCommit repository is imported', () => {
    expect(plan.services).toEqual([
      { name: 'foobar-frontend', source: { kind: SourceKind.CODECOMMIT, repository: 'foobar-frontend', branch: 'main', create: false }, synthCommands: ['npm ci', 'npm test', 'npx cdk synth'] },
      { name: 'foobar-backend', source: { kind: SourceKind.CONNECTION, repository: 'acme/foobar-backend', branch: 'trunk', create: false, connectionArn: CONNECTION_ARN }, synthCommands: ['npm ci', 'npx cdk synth'] },
    ]);
  });

  test('dev runs per service; hardening and every stage after it are bracket stages; pipelines are named per service and for releases', () => {
    expect(plan.stages.map(s => [s.name, s.bracket])).toEqual([['dev', false], ['hardening', true], ['production', true]]);
    expect(plan.releasePlan!.serviceStages.map(s => s.name)).toEqual(['dev']);
    expect(plan.releasePlan!.bracketStages.map(s => s.name)).toEqual(['hardening', 'production']);
    expect(plan.releasePlan!.servicePipelines).toEqual([{ service: 'foobar-frontend', name: 'foo-foobar-frontend' }, { service: 'foobar-backend', name: 'foo-foobar-backend' }]);
    expect(plan.releasePlan!.releasePipeline).toBe('foo-release');
  });

  test('a file without services behaves as before: no services, no release plan, no bracket stage', () => {
    const doc = fooDocument();
    delete doc.pipeline.services;
    doc.pipeline.stages[1].bracket = undefined;
    delete doc.pipeline.stages[1].bracket;
    const p = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, FILE));
    expect(p.services).toEqual([]);
    expect(p.releasePlan).toBeUndefined();
    expect(p.stages.every(s => !s.bracket)).toBe(true);
  });
});

describe('validation of services and bracket stages', () => {
  test('a strategy other than codepipeline-trunk is refused, the default one too, with the strategy to use', () => {
    const issue = onlyIssue(withPipeline(p => { p.strategy = 'cdk-pipelines'; }));
    expect(issue).toMatchObject({ path: 'pipeline.strategy', value: '"cdk-pipelines"' });
    expect(issue.expected).toMatch(/"codepipeline-trunk"/);
    const defaulted = onlyIssue(withPipeline(p => { delete p.strategy; }));
    expect(defaulted.problem).toMatch(/defaults to "cdk-pipelines"/);
  });

  test('a pipeline source beside services, a review section and PARALLEL executions are each refused', () => {
    const issues = issuesOf(withPipeline(p => {
      p.source = { codecommit: { repository: 'foo' } };
      p.review = { environment: 'dev' };
      p.executionMode = 'PARALLEL';
    }));
    expect(issues.map(i => i.path).sort()).toEqual(['pipeline.executionMode', 'pipeline.review', 'pipeline.source']);
    expect(issues.find(i => i.path === 'pipeline.source')!.fix).toMatch(/move the repository into a service/);
  });

  test('two services with one repository are refused, naming the other service', () => {
    const issue = onlyIssue(withPipeline(p => { p.services['foobar-backend'] = { source: { codecommit: { repository: 'foobar-frontend' } } }; }));
    expect(issue).toMatchObject({ path: 'pipeline.services.foobar-backend.source.codecommit.repository', value: '"foobar-frontend"' });
    expect(issue.problem).toBe('is also the repository of service "foobar-frontend"');
  });

  test('a service with no source or two sources, and a bad service name, are named', () => {
    const issues = issuesOf(withPipeline(p => {
      p.services['foobar-backend'].source = { codecommit: { repository: 'b' }, connection: { arn: CONNECTION_ARN, repository: 'a/b' } };
      p.services.Frontend_2 = { source: { codecommit: { repository: 'c' } } };
    }));
    expect(issues.map(i => [i.path, i.problem])).toEqual(expect.arrayContaining([
      ['pipeline.services.foobar-backend.source', 'names two sources'],
      ['pipeline.services.Frontend_2', 'has the name "Frontend_2", which is not a service name'],
    ]));
  });

  test('two services whose stacks would share names in some environment are refused', () => {
    const doc = fooDocument();
    doc.environments['eu-dev'] = { account: '555555555555', region: 'eu-west-1' };
    doc.environments.dev = { account: '222222222222', region: 'eu-west-1' };
    doc.pipeline.services = { 'api': { source: { codecommit: { repository: 'api' } } }, 'api-eu': { source: { codecommit: { repository: 'api-eu' } } } };
    doc.pipeline.stages[0].environments = ['dev', 'eu-dev'];
    const issue = onlyIssue(doc);
    expect(issue.path).toMatch(/^pipeline\.services\.api(-eu)?$/);
    expect(issue.problem).toMatch(/names its stacks "api(-eu)?-(eu-)?dev-…", as service api(-eu)? does in environment (eu-)?dev/);
  });

  test('a per-service stage named Candidate would collide with the stage that ends each service\'s pipeline', () => {
    const issue = onlyIssue(withPipeline(p => { p.stages[0].name = 'candidate'; }));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].name', value: '"candidate"' });
    expect(issue.problem).toMatch(/"Candidate" stage that ends each service's pipeline/);
  });

  test('no bracket stage: nothing would be released together', () => {
    const issue = onlyIssue(withPipeline(p => { delete p.stages[1].bracket; }));
    expect(issue).toMatchObject({ path: 'pipeline.stages' });
    expect(issue.problem).toMatch(/no bracket stage/);
  });

  test('a per-service stage after a bracket stage is refused: a release cannot split up again', () => {
    const issue = onlyIssue(withPipeline(p => { p.stages[2].bracket = false; }));
    expect(issue).toMatchObject({ path: 'pipeline.stages[2].bracket', value: 'false' });
    expect(issue.problem).toMatch(/per-service stage after the bracket stage pipeline\.stages\[1\]/);
  });

  test('services without stages are refused with stages to write', () => {
    const issue = onlyIssue(withPipeline(p => { delete p.stages; }));
    expect(issue).toMatchObject({ path: 'pipeline.stages', problem: expect.stringMatching(/^is missing/) });
  });

  test('bracket without services is refused', () => {
    const doc = fooDocument();
    delete doc.pipeline.services;
    const issue = onlyIssue(doc);
    expect(issue).toMatchObject({ path: 'pipeline.stages[1].bracket' });
    expect(issue.problem).toMatch(/no services/);
  });

  test('pipeline names over CodePipeline\'s 100 characters are refused with the room left', () => {
    const doc = withPipeline(p => { p.name = 'f'.repeat(90); });
    expect(() => DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, FILE))).toThrow(/pipeline\.name.*longer than CodePipeline's 100 characters.*at most 84 characters/s);
  });
});
