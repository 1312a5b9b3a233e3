import { readFileSync } from 'fs';
// jsii's own naming function (jsii-pacmak, a development dependency, names Python properties
// with it): the independent check of our snakeCase. Not a dependency of ours on purpose.
// eslint-disable-next-line import/no-extraneous-dependencies
import { toSnakeCase } from 'codemaker/lib/case-utils';
import { cdkAssembly, cdkPropNamesFromJsii, renderModule, sharedPythonNames, structs } from './cdk-prop-names.source';
import { docWithDev, FILE } from './helpers';
import { DdkConfig } from '../../lib/config';
import { CDK_ACRONYM_PROP_NAMES, CDK_NAME_MAP_PROPS } from '../../lib/config/cdk-prop-names';
import { camelCase, cfnTypeFindings, convertResource, snakeCase } from '../../lib/config/prop-keys';

describe('property names, checked against aws-cdk-lib\'s jsii assembly', () => {
  const names = [...new Set(structs(cdkAssembly()).flatMap(s => (s.properties ?? []).map(p => p.name)))];

  test('there are thousands of struct property names to check', () => {
    expect(names.length).toBeGreaterThan(10000);
  });

  test('snakeCase gives jsii\'s Python name of every struct property', () => {
    const wrong = names.filter(n => snakeCase(n) !== toSnakeCase(n)).map(n => `${n}: ${snakeCase(n)} != ${toSnakeCase(n)}`);

    expect(wrong).toEqual([]);
  });

  test('camelCase gives back every struct property from its Python name (acronyms included)', () => {
    // GIVEN the few Python names two props share (webAclId and webACLId are both web_acl_id)
    const shared = sharedPythonNames(toSnakeCase);
    expect(shared.size).toBeLessThan(20);
    expect(shared).toContain('web_acl_id');

    // THEN every other name comes back exactly, and a shared one as its plain camelCase spelling
    const wrong = names.filter(n => !shared.has(toSnakeCase(n)) && camelCase(toSnakeCase(n)) !== n).map(n => `${toSnakeCase(n)} -> ${camelCase(toSnakeCase(n))}, not ${n}`);
    expect(wrong).toEqual([]);
    expect(camelCase('web_acl_id')).toBe('webAclId');
  });

  test('the committed tables are the ones the installed aws-cdk-lib gives', () => {
    // THEN lib/config/cdk-prop-names.ts needs no regeneration (renderModule prints the new text)
    const tables = cdkPropNamesFromJsii(toSnakeCase);
    const hint = renderModule(tables, JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf-8')).version);

    expect({ acronyms: CDK_ACRONYM_PROP_NAMES, maps: CDK_NAME_MAP_PROPS }).toEqual(tables);
    expect(hint).toContain('enforce_ssl: \'enforceSSL\'');
  });
});

describe('convertResource', () => {
  const PATH = ['environments', 'dev', 'resources', 'table'];

  test('nested snake_case keys become camelCase at every depth (DynamoDB point-in-time recovery)', () => {
    // GIVEN the DDK entry whose nested keys used to be dropped
    const entry = { point_in_time_recovery_specification: { point_in_time_recovery_enabled: true, recovery_period_in_days: 7 }, removal_policy: 'retain' };

    const { props, overrides, findings } = convertResource(entry, 'camel', PATH);

    expect(props).toEqual({ pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 7 }, removalPolicy: 'retain' });
    expect(overrides).toEqual({});
    expect(findings).toEqual([]);
  });

  test('snake_case output is jsii\'s Python spelling at every depth, whatever the input spelling', () => {
    const entry = { 'pointInTimeRecoverySpecification': { point_in_time_recovery_enabled: true }, 'enforceSSL': true, 'max-azs': 2 };

    expect(convertResource(entry, 'snake', PATH).props).toEqual({
      point_in_time_recovery_specification: { point_in_time_recovery_enabled: true },
      enforce_ssl: true,
      max_azs: 2,
    });
  });

  test('acronyms come back as aws-cdk-lib spells them, from snake_case and from a wrong camelCase', () => {
    expect(convertResource({ enforce_ssl: true, minimum_tls_version: 1.2, memoryLimitMib: 512 }, 'camel', PATH).props)
      .toEqual({ enforceSSL: true, minimumTLSVersion: 1.2, memoryLimitMiB: 512 });
  });

  test('lists of structs are converted element by element', () => {
    const entry = { lifecycle_rules: [{ abort_incomplete_multipart_upload_after: 7, noncurrent_version_transitions: [{ storage_class: 'GLACIER' }] }] };

    expect(convertResource(entry, 'camel', PATH).props).toEqual({
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: 7, noncurrentVersionTransitions: [{ storageClass: 'GLACIER' }] }],
    });
  });

  test('keys of maps of names (tags) are kept as written, in both cases', () => {
    const entry = { tags: { cost_center: '1234', Team: 'data' } };

    expect(convertResource(entry, 'camel', PATH)).toEqual({ props: { tags: { cost_center: '1234', Team: 'data' } }, overrides: {}, findings: [] });
    expect(convertResource(entry, 'snake', PATH).props).toEqual({ tags: { cost_center: '1234', Team: 'data' } });
  });

  test('a map whose values are structs keeps its keys and converts its values', () => {
    // GIVEN CodeBuild environment variables: a map of names to {value, type} structs
    const entry = { environment_variables: { STAGE: { value: 'dev', type: 'PLAINTEXT' } } };

    expect(convertResource(entry, 'camel', PATH).props).toEqual({ environmentVariables: { STAGE: { value: 'dev', type: 'PLAINTEXT' } } });
  });

  test('a name that is a map for some constructs and a struct for others keeps its keys; snake_case ones are warned about', () => {
    // GIVEN "environment": Lambda environment variables, but a struct for a CodeBuild project
    const { props, findings } = convertResource({ environment: { LOG_LEVEL: 'debug', compute_type: 'SMALL' } }, 'camel', PATH);

    expect(props).toEqual({ environment: { LOG_LEVEL: 'debug', compute_type: 'SMALL' } });
    expect(findings).toEqual([{
      path: [...PATH, 'environment', 'compute_type'],
      problem: 'key "compute_type" is kept as written: "environment" is a map of names you choose for some constructs (e.g. a Lambda function\'s environment variables) and a struct of props for others',
      fix: 'if "environment" holds props for this construct, write "computeType"; if it is a name, ignore this warning',
    }]);
  });

  test('PascalCase top-level keys are CloudFormation properties of the construct (AWS DDK 1.x), not props', () => {
    const entry = { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, billing_mode: 'PAY_PER_REQUEST' };

    const { props, overrides, findings } = convertResource(entry, 'camel', PATH);

    expect(props).toEqual({ billingMode: 'PAY_PER_REQUEST' });
    expect(overrides).toEqual({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    expect(findings).toEqual([]);
  });

  test('keys that map onto nothing are left out, each with a finding naming its path and the likely prop', () => {
    // GIVEN a PascalCase key inside props, an upper-case key and a key with a space
    const entry = { 'point_in_time_recovery_specification': { PointInTimeRecoveryEnabled: true }, 'VERSIONED': true, 'my key': 1 };

    const { props, findings } = convertResource(entry, 'camel', PATH);

    expect(props).toEqual({ pointInTimeRecoverySpecification: {} });
    expect(findings).toEqual([
      {
        path: [...PATH, 'point_in_time_recovery_specification', 'PointInTimeRecoveryEnabled'],
        problem: 'key "PointInTimeRecoveryEnabled" is PascalCase (a CloudFormation property name) inside construct props, so it is not passed',
        fix: 'write the construct prop "point_in_time_recovery_enabled" (or "pointInTimeRecoveryEnabled") instead',
      },
      {
        path: [...PATH, 'VERSIONED'],
        problem: 'key "VERSIONED" is neither a construct prop (camelCase or snake_case) nor a CloudFormation property (PascalCase), so it is not passed',
        fix: 'remove it, or write the construct prop it stands for in camelCase or snake_case',
      },
      {
        path: [...PATH, 'my key'],
        problem: 'key "my key" is neither a construct prop (camelCase or snake_case) nor a CloudFormation property (PascalCase), so it is not passed',
        fix: 'remove it, or write the construct prop it stands for in camelCase or snake_case',
      },
    ]);
  });

  test('two spellings of one prop keep the first and report the second', () => {
    const { props, findings } = convertResource({ removal_policy: 'retain', removalPolicy: 'destroy' }, 'camel', PATH);

    expect(props).toEqual({ removalPolicy: 'retain' });
    expect(findings).toEqual([expect.objectContaining({ path: [...PATH, 'removalPolicy'], fix: 'keep one of the two spellings' })]);
  });

  test('a CloudFormation type entry: keys that are not PascalCase are findings', () => {
    const findings = cfnTypeFindings({ MemorySize: 512, memory_size: 256 }, ['environments', 'dev', 'resources', 'AWS::Lambda::Function']);

    expect(findings).toEqual([{
      path: ['environments', 'dev', 'resources', 'AWS::Lambda::Function', 'memory_size'],
      problem: 'key "memory_size" is not a CloudFormation property name (those are PascalCase, e.g. "MemorySize"), so it is not applied',
      fix: 'write the CloudFormation property name, e.g. "MemorySize", as the resource type\'s documentation spells it',
    }]);
  });
});

describe('keys that cannot be mapped are warnings of the loaded file', () => {
  test('each warning names the file, the JSON path and the key', () => {
    // GIVEN a DDK file with a PascalCase key inside props and a snake_case key under a resource type
    const resources = {
      'events-table': { point_in_time_recovery_specification: { PointInTimeRecoveryEnabled: true } },
      'AWS::Lambda::Function': { memory_size: 256 },
    };

    const config = DdkConfig.fromObject(docWithDev({ resources }), FILE);

    expect(config.warnings).toEqual([
      'ddk.json: environments.dev.resources.events-table.point_in_time_recovery_specification.PointInTimeRecoveryEnabled: key "PointInTimeRecoveryEnabled" is PascalCase (a CloudFormation property name) inside construct props, so it is not passed. Fix: write the construct prop "point_in_time_recovery_enabled" (or "pointInTimeRecoveryEnabled") instead',
      'ddk.json: environments.dev.resources["AWS::Lambda::Function"].memory_size: key "memory_size" is not a CloudFormation property name (those are PascalCase, e.g. "MemorySize"), so it is not applied. Fix: write the CloudFormation property name, e.g. "MemorySize", as the resource type\'s documentation spells it',
    ]);
  });

  test('resourceProps gives the nested props in camelCase', () => {
    const resources = { 'events-table': { point_in_time_recovery_specification: { point_in_time_recovery_enabled: true } } };

    const dev = DdkConfig.fromObject(docWithDev({ resources }), FILE).environment('dev');

    expect(dev.resourceProps('events-table')).toEqual({ pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } });
  });
});
