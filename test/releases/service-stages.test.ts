/*
 * ServiceStages: a service's own CDK app, fed by its pipeline build's DDK_SERVICE and
 * DDK_ENVIRONMENTS, synthesizes one nested assembly per environment (assembly-<environment id>,
 * the one the deploy actions pass to `cdk deploy --app`) holding stacks named
 * <service>-<environment id>-<stack id>.
 */
import { existsSync, mkdtempSync, readdirSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { fooDocument } from './fixtures';
import { ApplicationStage, EnvironmentResources, IApplicationFactory, ServiceStages } from '../../lib';
import { DdkConfig, EnvironmentConfig } from '../../lib/config';
import { serviceStageName } from '../../lib/releases/shared';

const FIX = "Fix: run it in the service's pipeline build, or set DDK_SERVICE and DDK_ENVIRONMENTS";

/** A service of two stacks: a queue, and a bucket whose props come from `resources.store`. */
class TwoStacks implements IApplicationFactory {
  public readonly seen: string[] = [];
  public createApplication(stage: Stage, environment: EnvironmentConfig): void {
    this.seen.push(environment.id);
    const api = new Stack(stage, 'Api');
    new sqs.Queue(api, 'Jobs', { enforceSSL: true });
    const data = new Stack(stage, 'Data');
    new s3.Bucket(data, 'store', { enforceSSL: true, ...(EnvironmentResources.of(data).props('store') ?? {}) });
  }
}

/** The foo story's ddk.json with top-level and per-environment tags and a `resources` entry in dev. */
function fooConfig(): DdkConfig {
  const doc = fooDocument();
  doc.tags = { project: 'foo', owner: 'platform' };
  doc.environments.dev.tags = { owner: 'frontend-team', stage: 'dev' };
  doc.environments.dev.resources = { store: { versioned: true } };
  doc.environments.hardening.bootstrap = { qualifier: 'hard01' };
  return DdkConfig.fromObject(doc, 'ddk.json');
}

/** What the service pipeline's build gives the service's app. */
function buildVariables(service: string, config = fooConfig()): { [name: string]: string } {
  return { DDK_SERVICE: service, DDK_ENVIRONMENTS: ServiceStages.environmentsVariable(config) };
}

function synthService(service: string, application: IApplicationFactory = new TwoStacks()) {
  const outdir = mkdtempSync(join(tmpdir(), `ddk-service-${service}-`));
  const app = new App({ outdir });
  const stages = new ServiceStages(app, 'Service', { application, env: buildVariables(service) });
  return { app, outdir, stages, assembly: app.synth() };
}

describe('a service\'s app in its pipeline build', () => {
  const frontend = synthService('foobar-frontend');

  test('one nested assembly per environment but cicd, named assembly-<environment id> in cdk.out', () => {
    expect(frontend.assembly.nestedAssemblies.map(a => a.id).sort()).toEqual(['assembly-dev', 'assembly-hardening', 'assembly-production']);
    // the folders `cdk deploy --app cdk.out/assembly-<environment id>` reads
    for (const env of ['dev', 'hardening', 'production']) {
      expect(existsSync(join(frontend.outdir, `assembly-${env}`, 'manifest.json'))).toBe(true);
    }
    expect(readdirSync(frontend.outdir).filter(f => f.startsWith('assembly-')).sort()).toEqual(['assembly-dev', 'assembly-hardening', 'assembly-production']);
    expect(frontend.stages.stages.map(s => s.node.id)).toEqual(['dev', 'hardening', 'production']);
    expect(frontend.stages.service).toBe('foobar-frontend');
  });

  test('stacks are named <service>-<environment>-<stack id>, in the environment\'s account and region', () => {
    const dev = frontend.assembly.nestedAssemblies.find(a => a.id === 'assembly-dev')!.nestedAssembly;
    expect(dev.stacks.map(s => [s.stackName, s.environment.account, s.environment.region])).toEqual([
      ['foobar-frontend-dev-Api', '222222222222', 'eu-west-1'],
      ['foobar-frontend-dev-Data', '222222222222', 'eu-west-1'],
    ]);
    const prod = frontend.assembly.nestedAssemblies.find(a => a.id === 'assembly-production')!.nestedAssembly;
    expect(prod.stacks.map(s => s.stackName)).toEqual(['foobar-frontend-production-Api', 'foobar-frontend-production-Data']);
    expect(serviceStageName('foobar-frontend', 'dev')).toBe(frontend.stages.stages[0].stageName);
  });

  test('the stack names of two services never collide, in any environment', () => {
    const backend = synthService('foobar-backend');
    const names = (s: typeof frontend) => s.assembly.nestedAssemblies.flatMap(a => a.nestedAssembly.stacks.map(st => st.stackName));
    const front = names(frontend);
    const back = names(backend);
    expect(front).toHaveLength(6);
    expect(back).toHaveLength(6);
    expect(front.filter(n => back.includes(n))).toEqual([]);
    expect(back.every(n => n.startsWith('foobar-backend-'))).toBe(true);
    // both deploy the same folders: assembly-<environment id> names the environment, not the service
    expect(backend.assembly.nestedAssemblies.map(a => a.id).sort()).toEqual(frontend.assembly.nestedAssemblies.map(a => a.id).sort());
  });

  test('the environment\'s tags (the file\'s overlaid with its own), resources settings and bootstrap qualifier apply', () => {
    const [dev, hardening] = frontend.stages.stages;
    const data = dev.node.findChild('Data') as Stack;
    const bucket = Template.fromStack(data).findResources('AWS::S3::Bucket');
    const props = Object.values(bucket)[0].Properties;
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props.Tags).toEqual(expect.arrayContaining([
      { Key: 'owner', Value: 'frontend-team' },
      { Key: 'project', Value: 'foo' },
      { Key: 'stage', Value: 'dev' },
    ]));
    const hardBucket = Object.values(Template.fromStack(hardening.node.findChild('Data') as Stack).findResources('AWS::S3::Bucket'))[0].Properties;
    expect(hardBucket.VersioningConfiguration).toBeUndefined();
    expect(hardBucket.Tags).toEqual(expect.arrayContaining([{ Key: 'owner', Value: 'platform' }, { Key: 'project', Value: 'foo' }]));
    // the hardening stacks deploy with the environment's bootstrap qualifier
    const hardStack = frontend.assembly.nestedAssemblies.find(a => a.id === 'assembly-hardening')!.nestedAssembly.stacks[0];
    expect(hardStack.assumeRoleArn).toContain('cdk-hard01-deploy-role-333333333333-eu-west-1');
  });
});

describe('ServiceStages.environmentsVariable: what the pipeline build passes as DDK_ENVIRONMENTS', () => {
  test('every environment, cicd included, as written; tags overlaid on the file\'s top-level tags', () => {
    const value = JSON.parse(ServiceStages.environmentsVariable(fooConfig()));
    expect(Object.keys(value)).toEqual(['cicd', 'dev', 'hardening', 'production']);
    expect(value.dev).toEqual({
      account: '222222222222',
      region: 'eu-west-1',
      tags: { project: 'foo', owner: 'frontend-team', stage: 'dev' },
      resources: { store: { versioned: true } },
    });
    expect(value.hardening).toEqual({ account: '333333333333', region: 'eu-west-1', bootstrap: { qualifier: 'hard01' }, tags: { project: 'foo', owner: 'platform' } });
  });

  test('without tags, an environment is passed exactly as written', () => {
    const value = JSON.parse(ServiceStages.environmentsVariable(DdkConfig.fromObject(fooDocument(), 'ddk.json')));
    expect(value).toEqual(fooDocument().environments);
  });
});

describe('props instead of variables', () => {
  test('props.service and props.environments win over the variables; an empty variable counts as unset', () => {
    const app = new App();
    const stages = new ServiceStages(app, 'Service', {
      application: new TwoStacks(),
      service: 'foobar-backend',
      environments: JSON.stringify({ cicd: { account: '111111111111', region: 'eu-west-1' }, qa: { account: '555555555555', region: 'us-east-1' } }),
      env: { DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: '' },
    });
    expect(stages.service).toBe('foobar-backend');
    expect(stages.stages.map(s => [s.node.path, s.stageName, s.account, s.region])).toEqual([['qa', 'foobar-backend-qa', '555555555555', 'us-east-1']]);
  });

  test('an environment id the pipeline reserves for its own stages (without pipeline.stages) is a valid service environment', () => {
    const app = new App();
    const stages = new ServiceStages(app, 'Service', {
      application: new TwoStacks(),
      env: { DDK_SERVICE: 'svc', DDK_ENVIRONMENTS: JSON.stringify({ cicd: { account: '111111111111', region: 'eu-west-1' }, build: { account: '555555555555', region: 'eu-west-1' } }) },
    });
    expect(stages.stages.map(s => s.stageName)).toEqual(['svc-build']);
  });
});

describe('missing or malformed variables: what, where, expected and the fix', () => {
  const ENVIRONMENTS = ServiceStages.environmentsVariable(DdkConfig.fromObject(fooDocument(), 'ddk.json'));
  const make = (env: { [name: string]: any }, props: { service?: string; environments?: string } = {}) =>
    () => new ServiceStages(new App(), 'Service', { application: new TwoStacks(), env, ...props });

  test('DDK_SERVICE unset', () => {
    expect(make({ DDK_ENVIRONMENTS: ENVIRONMENTS })).toThrow(`ServiceStages: DDK_SERVICE is not set; expected the name of the service this app builds (a key of pipeline.services in ddk.json: lower-case letters, digits and "-", starting with a letter, at most 40 characters, e.g. "foobar-frontend"). ${FIX}`);
    // a variable that is not a string counts as unset too
    expect(make({ DDK_SERVICE: 42, DDK_ENVIRONMENTS: ENVIRONMENTS })).toThrow('ServiceStages: DDK_SERVICE is not set');
  });

  test('DDK_SERVICE or props.service not a service name', () => {
    expect(make({ DDK_SERVICE: 'Foobar_Frontend', DDK_ENVIRONMENTS: ENVIRONMENTS })).toThrow('ServiceStages: DDK_SERVICE: "Foobar_Frontend" is not a service name; expected the name of the service');
    expect(make({ DDK_ENVIRONMENTS: ENVIRONMENTS }, { service: 'a'.repeat(41) })).toThrow(/^ServiceStages props\.service: "a{41}" is not a service name; expected .*Fix: run it in the service's pipeline build/);
  });

  test('DDK_ENVIRONMENTS unset', () => {
    expect(make({ DDK_SERVICE: 'foobar-frontend' })).toThrow(
      `ServiceStages: DDK_ENVIRONMENTS is not set; expected ddk.json's "environments" as JSON, {"cicd": {"account": "111111111111", "region": "eu-west-1"}, "dev": {"account": "…", "region": "…"}, …}. ${FIX}`);
  });

  test('DDK_ENVIRONMENTS not JSON: the position, never the text (it may hold secret references)', () => {
    const thrown = () => make({ DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: '{"dev": {"account": "secret-ish"' })();
    expect(thrown).toThrow(/^ServiceStages: DDK_ENVIRONMENTS is not valid JSON at offset \d+ \(\w+\); expected ddk.json's "environments" as JSON/);
    expect(thrown).not.toThrow(/secret-ish/);
  });

  test('DDK_ENVIRONMENTS not an object', () => {
    expect(make({ DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: '[]' })).toThrow('ServiceStages: DDK_ENVIRONMENTS is an array, not an object; expected ddk.json\'s "environments" as JSON');
    expect(make({ DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: '"dev"' })).toThrow('ServiceStages: DDK_ENVIRONMENTS is a string, not an object');
    expect(make({ DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: 'null' })).toThrow('ServiceStages: DDK_ENVIRONMENTS is null, not an object');
  });

  test('DDK_ENVIRONMENTS breaking ddk.json\'s rules: every problem, with its path from the variable\'s root', () => {
    const bad = JSON.stringify({ dev: { account: '2222', region: 'eu-west-1' }, prod: { account: '333333333333', region: 'mars-1' } });
    let message = '';
    try {
      make({ DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: bad })();
    } catch (e: any) {
      message = e.message;
    }
    const lines = message.split('\n');
    expect(lines[0]).toBe(`ServiceStages: DDK_ENVIRONMENTS is not a valid environment map (3 problems); expected ddk.json's "environments" as JSON, {"cicd": {"account": "111111111111", "region": "eu-west-1"}, "dev": {"account": "…", "region": "…"}, …}. ${FIX}`);
    expect(lines.slice(1).every(l => l.startsWith('  - DDK_ENVIRONMENTS: '))).toBe(true);
    expect(message).toMatch(/ {2}- DDK_ENVIRONMENTS: cicd: is missing: no environment hosts the pipeline/);
    expect(message).toMatch(/ {2}- DDK_ENVIRONMENTS: dev\.account: "2222" /);
    expect(message).toMatch(/ {2}- DDK_ENVIRONMENTS: prod\.region: "mars-1" is not a known AWS region/);
  });

  test('only cicd: nothing to deploy', () => {
    expect(make({ DDK_SERVICE: 'foobar-frontend', DDK_ENVIRONMENTS: JSON.stringify({ cicd: { account: '111111111111', region: 'eu-west-1' } }) }))
      .toThrow(/DDK_ENVIRONMENTS is not a valid environment map \(1 problem\)[\s\S]*- DDK_ENVIRONMENTS: \{"cicd":.*\} has no environment to deploy to; expected at least one environment besides "cicd"/);
  });

  test('props.environments is named as the prop', () => {
    expect(make({}, { service: 'foobar-frontend', environments: '{' })).toThrow(/^ServiceStages props\.environments is not valid JSON/);
    expect(make({}, { service: 'foobar-frontend', environments: '{"dev": 1}' })).toThrow(/- props\.environments: /);
  });

  test('inside a nested Stage: refused (its stages would not be cdk.out/assembly-<environment id>)', () => {
    const app = new App();
    const nested = new Stage(app, 'Outer');
    expect(() => new ServiceStages(nested, 'Service', { application: new TwoStacks(), env: buildVariables('foobar-frontend') }))
      .toThrow("ServiceStages Outer/Service: is not in the app's own scope; expected it directly in the App");
  });
});

describe('ApplicationStage.stageName', () => {
  const environment = fooConfig().environment('dev');

  test('names the stacks <stageName>-<stack id>; without it they stay <id>-<stack id>', () => {
    const app = new App();
    const named = new ApplicationStage(app, 'dev', { environment, application: new TwoStacks(), stageName: 'svc-dev' });
    const plain = new ApplicationStage(app, 'other', { environment, application: new TwoStacks() });
    expect((named.node.findChild('Api') as Stack).stackName).toBe('svc-dev-Api');
    expect((plain.node.findChild('Api') as Stack).stackName).toBe('other-Api');
    expect(named.artifactId).toBe('assembly-dev');
  });

  test('with a review, stageName is refused', () => {
    const app = new App();
    expect(() => new ApplicationStage(app, 'dev', {
      environment,
      application: new TwoStacks(),
      stageName: 'svc-dev',
      review: { pipeline: 'foo', deployment: { id: 'pr1', stackPrefix: 'foo-review-pr1' } },
    })).toThrow('ApplicationStage dev: props.stageName ("svc-dev") and props.review are both set; a review stage is named after its review deployment ("foo-review-pr1"). Fix: pass one of them');
  });
});
