import { deflateRawSync } from 'node:zlib';
import * as fc from 'fast-check';
import { partitionOfRegion } from '../../lib/config/regions';
import {
  COMPRESSED_PREFIX, DEFAULT_QUALIFIER, encodeSafetyStages, lookupRoleArn, readSafetyStages, SafetyStageSettings,
} from '../../lib/safety/settings';
import { SAFETY_LIMITS, SAFETY_STAGES_VARIABLE, SafetyStages } from '../../lib/safety/shared';

/*
 * DDK_SAFETY_STAGES: the one writer (DeploymentSafety, at synth) and the one reader (both
 * handlers). Lookup roles travel as a qualifier and are derived in the function's partition;
 * the JSON is deflate-raw compressed (base64, "deflate:") when it does not fit its budget.
 */

const env = (value: string, region = 'eu-west-1') => ({ [SAFETY_STAGES_VARIABLE]: value, AWS_REGION: region });

/** What the reader must give for settings written in `partition`. */
function expanded(stages: SafetyStageSettings, partition: string): SafetyStages {
  return Object.fromEntries(Object.entries(stages).map(([name, s]) => [name, {
    ...s,
    targets: s.targets.map(({ qualifier, ...t }) => ({ ...t, lookupRoleArn: lookupRoleArn(partition, t.account, t.region, qualifier) })),
  }]));
}

const text = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
const settings: fc.Arbitrary<SafetyStageSettings> = fc.dictionary(text, fc.record({
  targets: fc.array(fc.record({
    id: text,
    account: fc.stringMatching(/^\d{12}$/),
    region: fc.constantFrom('eu-west-1', 'us-east-1', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1'),
    qualifier: fc.stringMatching(/^[a-z0-9]{1,10}$/),
    assembly: text,
    alarms: fc.array(text, { maxLength: 5 }),
  }, { requiredKeys: ['id', 'account', 'region'] }), { maxLength: 30 }),
  soakMinutes: fc.integer({ min: SAFETY_LIMITS.minSoakMinutes, max: SAFETY_LIMITS.maxSoakMinutes }),
}, { requiredKeys: ['targets'] }), { maxKeys: 4 });

describe('writer and reader', () => {
  test('property: whatever the settings and budget, the reader gives back what was written, the lookup roles derived (fast-check, seed 1)', () => {
    fc.assert(fc.property(settings, fc.integer({ min: 0, max: 4096 }), fc.constantFrom(['eu-west-1', 'aws'], ['cn-northwest-1', 'aws-cn'], ['us-gov-east-1', 'aws-us-gov']),
      (stages, budget, [region, partition]) => {
        const value = encodeSafetyStages(stages, budget);
        // THEN the JSON when it fits the budget, the compressed form otherwise
        const json = JSON.stringify(stages);
        expect(value).toBe(Buffer.byteLength(json) <= budget ? json : `${COMPRESSED_PREFIX}${deflateRawSync(Buffer.from(json), { level: 9 }).toString('base64')}`);
        expect(readSafetyStages(env(value, region))).toEqual(expanded(stages, partition));
      }), { seed: 1, numRuns: 300 });
  });

  test('the compressed value is ASCII (Lambda environment values are strings) and 100 targets of 2 alarms take under 2 KB of the 4 KB', () => {
    let seed = 7;
    const account = () => String(100000000000 + ((seed = (seed * 48271) % 2147483647) % 899999999999)).padStart(12, '0');
    const stages: SafetyStageSettings = {
      production: {
        targets: Array.from({ length: 100 }, (_, i) => ({ id: `prod-${i}`, account: account(), region: ['eu-west-1', 'us-east-1'][i % 2], alarms: ['api-errors', `prod-${i}-5xx`] })),
        soakMinutes: 15,
      },
    };
    const value = encodeSafetyStages(stages, 4000);
    expect(value.startsWith(COMPRESSED_PREFIX)).toBe(true);
    expect(value).toMatch(/^[\x20-\x7e]+$/);
    expect(Buffer.byteLength(JSON.stringify(stages))).toBeGreaterThan(10000);
    expect(Buffer.byteLength(value)).toBeLessThan(2048);
  });
});

describe('the lookup role', () => {
  test.each([
    ['eu-west-1', 'arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1'],
    ['cn-north-1', 'arn:aws-cn:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-cn-north-1'],
    ['us-gov-west-1', 'arn:aws-us-gov:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-us-gov-west-1'],
  ])('a function in %s assumes the default-qualifier role in its partition', (region, arn) => {
    const stages = readSafetyStages(env(JSON.stringify({ prod: { targets: [{ id: 'p', account: '111111111111', region }] } }), region));
    expect(stages.prod.targets[0].lookupRoleArn).toBe(arn);
  });

  test('a target with its own qualifier: cdk-<qualifier>-lookup-role-…', () => {
    const stages = readSafetyStages(env(JSON.stringify({ prod: { targets: [{ id: 'p', account: '222222222222', region: 'us-east-1', qualifier: 'team7' }] } })));
    expect(stages.prod.targets[0]).toEqual({ id: 'p', account: '222222222222', region: 'us-east-1', lookupRoleArn: 'arn:aws:iam::222222222222:role/cdk-team7-lookup-role-222222222222-us-east-1' });
    expect(DEFAULT_QUALIFIER).toBe('hnb659fds');
  });

  test.each([
    ['us-east-1', 'aws'], ['il-central-1', 'aws'], ['mx-central-1', 'aws'], ['cn-northwest-1', 'aws-cn'], ['us-gov-east-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'], ['us-isob-east-1', 'aws-iso-b'], ['eu-isoe-west-1', 'aws-iso-e'], ['us-isof-south-1', 'aws-iso-f'],
    ['eusc-de-east-1', 'aws-eusc'], ['xx-nowhere-1', undefined], ['local', undefined],
  ])('the partition of %s: %s', (region, partition) => {
    expect(partitionOfRegion(region)).toBe(partition);
  });
});

describe('a malformed DDK_SAFETY_STAGES is refused, naming the variable and the fix', () => {
  const json = (v: unknown) => env(JSON.stringify(v));
  const prod = { id: 'prod', account: '222222222222', region: 'us-east-1', alarms: ['orders'] };
  test.each<[string, Record<string, string>, string]>([
    ['unset', { AWS_REGION: 'eu-west-1' }, `environment variable ${SAFETY_STAGES_VARIABLE} is not set; expected the JSON safety stages`],
    ['not JSON', env('{'), `environment variable ${SAFETY_STAGES_VARIABLE} is not JSON`],
    ['compressed, not deflate', env(`${COMPRESSED_PREFIX}bm90IGRlZmxhdGU=`), `environment variable ${SAFETY_STAGES_VARIABLE}: the compressed value does not inflate`],
    ['compressed, not JSON', env(`${COMPRESSED_PREFIX}${deflateRawSync(Buffer.from('{')).toString('base64')}`), `environment variable ${SAFETY_STAGES_VARIABLE} is not JSON`],
    ['an array', json([]), `environment variable ${SAFETY_STAGES_VARIABLE}: [] is not an object by stage name`],
    ['a stage without targets', json({ prod: {} }), 'stage "prod" is {}; expected {"targets": [...]}'],
    ['a target without a region', json({ prod: { targets: [{ id: 'a', account: '1' }] } }), 'stage "prod" targets[0] is {"id":"a","account":"1"}; expected {"id", "account", "region", "qualifier"?, "assembly"?, "alarms"?: [names]}'],
    ['an empty qualifier', json({ prod: { targets: [{ ...prod, qualifier: '' }] } }), 'stage "prod" targets[0]'],
    ['an assembly not a string', json({ prod: { targets: [{ ...prod, assembly: 1 }] } }), 'stage "prod" targets[0]'],
    ['alarms not names', json({ prod: { targets: [{ ...prod, alarms: [''] }] } }), 'stage "prod" targets[0]'],
    ['soak too long', json({ prod: { targets: [prod], soakMinutes: SAFETY_LIMITS.maxSoakMinutes + 1 } }), `stage "prod" soakMinutes is ${SAFETY_LIMITS.maxSoakMinutes + 1}; expected whole minutes from 1 to ${SAFETY_LIMITS.maxSoakMinutes}`],
    ['soak not whole', json({ prod: { targets: [prod], soakMinutes: 1.5 } }), 'stage "prod" soakMinutes is 1.5'],
    ['a region of no known partition', env(JSON.stringify({ prod: { targets: [prod] } }), 'local'), 'environment variable AWS_REGION is "local"; expected a region of a known partition'],
  ])('%s', (_n, e, message) => {
    expect(() => readSafetyStages(e)).toThrow(message);
    expect(() => readSafetyStages(e)).toThrow(/Fix: /);
  });
});
