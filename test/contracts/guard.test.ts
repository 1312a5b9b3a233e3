import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { bundledRules, checkGuardRules, controlId } from './guard';
import { GUARD_EXEMPTIONS } from './guard-exemptions';
import type { StackTemplate } from './synthesize';

/*
 * The Control Tower guard rules run for real (the bundled cfn-guard binary) on tiny templates:
 * a violation is reported, an exemption limited to some resources covers only those, and the
 * exemption list names real rules with real reasons.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddk-guard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stackOf(name: string, resources: Record<string, any>): StackTemplate {
  const template = { Resources: resources };
  const templateFile = join(dir, `${name}.template.json`);
  writeFileSync(templateFile, JSON.stringify(template));
  return { stackName: name, displayName: name, kind: 'application', account: '111111111111', region: 'eu-west-1', template, bytes: 0, templateFile };
}

const encrypted = { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } };
const blocked = {
  PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
};

test('a bucket without a public access block breaks CT.S3.PR.1', () => {
  const findings = checkGuardRules([stackOf('open', { Open: { Type: 'AWS::S3::Bucket', Properties: encrypted } })]);
  expect(findings.filter(f => f.contract === 'guard.ct-s3-pr-1').map(f => f.where)).toEqual(['Open']);
  expect(findings.find(f => f.contract === 'guard.ct-s3-pr-1')!.message).toMatch(/^CT\.S3\.PR\.1 /);
});

test('an exemption limited to access-log destinations covers them and nothing else', () => {
  const findings = checkGuardRules([stackOf('logs', {
    Logs: { Type: 'AWS::S3::Bucket', Properties: { ...encrypted, ...blocked } },
    Data: { Type: 'AWS::S3::Bucket', Properties: { ...encrypted, ...blocked, LoggingConfiguration: { DestinationBucketName: { Ref: 'Logs' } } } },
    Unlogged: { Type: 'AWS::S3::Bucket', Properties: { ...encrypted, ...blocked } },
  })]);
  // CT.S3.PR.2 (server access logging): the destination is exempt, the other unlogged bucket is not
  expect(findings.filter(f => f.contract === 'guard.ct-s3-pr-2').map(f => f.where)).toEqual(['Unlogged']);
  // CT.S3.PR.10 (SSE-KMS): S3 delivers access logs only to SSE-S3 buckets, so only Logs is exempt
  expect(findings.filter(f => f.contract === 'guard.ct-s3-pr-10').map(f => f.where).sort()).toEqual(['Data', 'Unlogged']);
});

test('rules exempt for every resource are not run, and the others still are', () => {
  const bucket = stackOf('lock', { B: { Type: 'AWS::S3::Bucket', Properties: { ...encrypted, ...blocked } } });
  expect(checkGuardRules([bucket]).some(f => f.contract === 'guard.ct-s3-pr-9')).toBe(false);
  expect(checkGuardRules([bucket], {}).some(f => f.contract === 'guard.ct-s3-pr-9')).toBe(true);
});

test('every exemption names a bundled Control Tower rule and gives a reason', () => {
  const ids = new Set(bundledRules().map(r => r.id));
  for (const [rule, e] of Object.entries(GUARD_EXEMPTIONS)) {
    expect({ rule, known: ids.has(rule) }).toEqual({ rule, known: true });
    expect(e.reason.length).toBeGreaterThan(60);
  }
  expect(controlId('ct-s3-pr-10')).toBe('CT.S3.PR.10');
});
