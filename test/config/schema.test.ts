import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { ddkJsonSchema } from '../../lib/config/schema';

const SCHEMA_FILE = join(__dirname, '..', '..', 'lib', 'config', 'ddk.schema.json');

describe('ddkJsonSchema', () => {
  const schema: any = ddkJsonSchema();

  test('describes a ddk.json object whose only required key is environments', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.title).toBe('ddk.json');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['environments', 'pipeline', 'tags', '$schema']));
    expect(schema.required).toEqual(['environments']);
  });

  test('allows unknown top-level keys (DDK files carry their own) but no unknown pipeline keys', () => {
    expect(schema.additionalProperties).not.toBe(false);
    expect(schema.properties.pipeline.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties.pipeline.properties).sort())
      .toEqual(['apiGatewayCloudWatchRole', 'artifactRetentionDays', 'changeSets', 'executionMode', 'name', 'notifications', 'review', 'rollbackOnFailure', 'services', 'source', 'stages', 'strategy', 'synth']);
  });

  test('describes each environment with a required 12-digit account and a region', () => {
    const env = schema.properties.environments.additionalProperties;

    expect(env.type).toBe('object');
    expect(env.required).toEqual(expect.arrayContaining(['account', 'region']));
    expect(env.properties.account.pattern).toBe('^\\d{12}$');
    expect(env.properties.region.examples).toContain('eu-west-1');
    expect(Object.keys(env.properties)).toEqual(expect.arrayContaining(['resources', 'env_vars', 'props', 'manual_approvals', 'bootstrap']));
  });

  test('lists the strategies and execution modes', () => {
    expect(schema.properties.pipeline.properties.strategy.enum).toEqual(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow']);
    expect(schema.properties.pipeline.properties.executionMode.enum).toEqual(['QUEUED', 'SUPERSEDED', 'PARALLEL']);
  });

  test('is plain JSON (survives a JSON round trip unchanged)', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe('the committed lib/config/ddk.schema.json', () => {
  test('exists', () => {
    expect(existsSync(SCHEMA_FILE)).toBe(true);
  });

  test('is the schema generated from the zod schema (regenerate it when the schema changes)', () => {
    // GIVEN the file shipped with the library and referenced by "$schema" in ddk.json files
    const committed = JSON.parse(readFileSync(SCHEMA_FILE, 'utf-8'));

    // THEN it is exactly the schema the validator uses
    expect(committed).toEqual(ddkJsonSchema());
  });
});
