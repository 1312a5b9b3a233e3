import { strToU8, zipSync, Zippable } from 'fflate';
import {
  assemblyDirectory, CloudAssemblyError, parseEnvironment, readNestedAssemblies, stacksOfManifest, zipEntryNames,
} from '../../lib/safety/cloud-assembly';

/*
 * Reading the zipped cloud assembly (the synth artifact) as CodeBuild zips cdk.out: only the
 * nested assemblies' manifest.json and their stacks' templates are inflated; the root may be
 * cdk.out itself or its parent.
 */

/** A nested assembly's manifest as `cdk synth` writes it (stack, asset manifest, tree entries). */
function devManifest(): unknown {
  return {
    version: '48.0.0',
    artifacts: {
      'devAppStackA1B2C3D4.assets': {
        type: 'cdk:asset-manifest',
        properties: { file: 'devAppStackA1B2C3D4.assets.json', requiresBootstrapStackVersion: 6, bootstrapStackVersionSsmParameter: '/cdk-bootstrap/hnb659fds/version' },
        displayName: 'dev/App Assets',
      },
      'devAppStackA1B2C3D4': {
        type: 'aws:cloudformation:stack',
        environment: 'aws://111111111111/eu-west-1',
        properties: {
          templateFile: 'devAppStackA1B2C3D4.template.json',
          terminationProtection: false,
          validateOnSynth: false,
          stackName: 'dev-App',
          assumeRoleArn: 'arn:${AWS::Partition}:iam::111111111111:role/cdk-hnb659fds-deploy-role-111111111111-eu-west-1',
          cloudFormationExecutionRoleArn: 'arn:${AWS::Partition}:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-eu-west-1',
          stackTemplateAssetObjectUrl: 's3://cdk-hnb659fds-assets-111111111111-eu-west-1/abc.json',
          requiresBootstrapStackVersion: 6,
          bootstrapStackVersionSsmParameter: '/cdk-bootstrap/hnb659fds/version',
          additionalDependencies: ['devAppStackA1B2C3D4.assets'],
          lookupRole: {
            arn: 'arn:${AWS::Partition}:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1',
            requiresBootstrapStackVersion: 8,
            bootstrapStackVersionSsmParameter: '/cdk-bootstrap/hnb659fds/version',
          },
        },
        dependencies: ['devAppStackA1B2C3D4.assets'],
        displayName: 'dev/App',
      },
      'devQueue': {
        type: 'aws:cloudformation:stack',
        environment: 'aws://unknown-account/unknown-region',
        properties: { templateFile: 'devQueue.template.json' },
        displayName: 'dev/Queue',
      },
    },
  };
}

const APP_TEMPLATE = { Resources: { Q: { Type: 'AWS::SQS::Queue' } } };
const QUEUE_TEMPLATE = { Resources: { T: { Type: 'AWS::SNS::Topic' } } };

function files(prefix: string): Zippable {
  return {
    [`${prefix}manifest.json`]: strToU8(JSON.stringify({ version: '48.0.0', artifacts: { 'assembly-dev': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-dev', displayName: 'dev' } } } })),
    [`${prefix}tree.json`]: strToU8('{}'),
    [`${prefix}assembly-dev/manifest.json`]: strToU8(JSON.stringify(devManifest())),
    [`${prefix}assembly-dev/devAppStackA1B2C3D4.template.json`]: strToU8(JSON.stringify(APP_TEMPLATE)),
    [`${prefix}assembly-dev/devQueue.template.json`]: strToU8(JSON.stringify(QUEUE_TEMPLATE)),
    [`${prefix}assembly-dev/asset.3f1b9c6e/index.js`]: strToU8('exports.handler = async () => 1;'),
    [`${prefix}assembly-prod/manifest.json`]: strToU8(JSON.stringify({ version: '48.0.0', artifacts: {} })),
  };
}

/**
 * Marks the entries named in `poisoned` with compression method 99 (local and central headers):
 * fflate throws "unknown compression type 99" when it inflates one, so reading passes only if
 * those entries are skipped.
 */
function poison(zip: Uint8Array, poisoned: readonly string[]): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const decoder = new TextDecoder();
  for (let i = 0; i + 46 < out.length; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    const name = decoder.decode(out.subarray(i + 46, i + 46 + nameLength));
    if (!poisoned.includes(name)) continue;
    view.setUint16(i + 10, 99, true);
    const local = view.getUint32(i + 42, true);
    view.setUint16(local + 8, 99, true);
  }
  return out;
}

describe('readNestedAssemblies', () => {
  test('lists each stack: artifact id, stackName (the artifact id when absent), templateFile, account/region, lookup role, template', () => {
    const [dev] = readNestedAssemblies(zipSync(files('')), ['assembly-dev']);
    expect(dev).toEqual({
      assembly: 'assembly-dev',
      directory: 'assembly-dev',
      stacks: [
        {
          artifactId: 'devAppStackA1B2C3D4',
          stackName: 'dev-App',
          templateFile: 'devAppStackA1B2C3D4.template.json',
          account: '111111111111',
          region: 'eu-west-1',
          lookupRoleArn: 'arn:${AWS::Partition}:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1',
          template: APP_TEMPLATE,
        },
        { artifactId: 'devQueue', stackName: 'devQueue', templateFile: 'devQueue.template.json', account: undefined, region: undefined, template: QUEUE_TEMPLATE },
      ],
    });
  });

  test('the artifact root may be cdk.out\'s parent, and the assembly may be given with or without cdk.out/', () => {
    const nested = zipSync(files('cdk.out/'));
    expect(readNestedAssemblies(nested, ['assembly-dev'])[0].directory).toBe('cdk.out/assembly-dev');
    expect(readNestedAssemblies(nested, ['cdk.out/assembly-dev'])[0].stacks.map((s) => s.stackName)).toEqual(['dev-App', 'devQueue']);
    expect(readNestedAssemblies(zipSync(files('')), ['cdk.out/assembly-dev'])[0].directory).toBe('assembly-dev');
    expect(readNestedAssemblies(zipSync(files('./')), ['assembly-dev'])[0].stacks).toHaveLength(2);
  });

  test('inflates only the manifests and templates it needs: other entries are never decompressed', () => {
    const zip = poison(zipSync(files('')), ['tree.json', 'manifest.json', 'assembly-dev/asset.3f1b9c6e/index.js', 'assembly-prod/manifest.json']);
    // GIVEN the poisoned entries would throw if inflated (the guard of this test)
    expect(() => readNestedAssemblies(zip, ['assembly-prod'])).toThrow(/unknown compression type 99/);
    // THEN reading assembly-dev never touches them
    expect(readNestedAssemblies(zip, ['assembly-dev'])[0].stacks).toHaveLength(2);
  });

  test('an assembly without stacks lists none', () => {
    expect(readNestedAssemblies(zipSync(files('')), ['assembly-prod'])[0].stacks).toEqual([]);
  });

  test('a missing nested assembly names what the artifact has', () => {
    expect(() => readNestedAssemblies(zipSync(files('cdk.out/')), ['assembly-qa'])).toThrow(new CloudAssemblyError(
      'the cloud assembly has no nested assembly "assembly-qa" (looked for assembly-qa/manifest.json and cdk.out/assembly-qa/manifest.json; it has cdk.out/assembly-dev, cdk.out/assembly-prod). '
      + 'The stage\'s targets must match the app\'s stages: synthesize the app with the delivery pipeline\'s stages',
    ));
  });

  test('unreadable input: not a zip, a manifest or template that is not JSON, a listed template missing', () => {
    expect(() => readNestedAssemblies(strToU8('PK? no'), ['assembly-dev'])).toThrow(/^the artifact is not a readable zip/);
    const badManifest = { ...files(''), 'assembly-dev/manifest.json': strToU8('{') };
    expect(() => readNestedAssemblies(zipSync(badManifest), ['assembly-dev'])).toThrow(/^assembly-dev\/manifest\.json is not JSON/);
    const badTemplate = { ...files(''), 'assembly-dev/devQueue.template.json': strToU8('Resources: {}') };
    expect(() => readNestedAssemblies(zipSync(badTemplate), ['assembly-dev'])).toThrow(/^assembly-dev\/devQueue\.template\.json is not JSON/);
    const arrayTemplate = { ...files(''), 'assembly-dev/devQueue.template.json': strToU8('[]') };
    expect(() => readNestedAssemblies(zipSync(arrayTemplate), ['assembly-dev'])).toThrow('assembly-dev/devQueue.template.json is not a CloudFormation template (got [])');
    const { ['assembly-dev/devQueue.template.json']: _gone, ...noTemplate } = files('');
    expect(() => readNestedAssemblies(zipSync(noTemplate), ['assembly-dev'])).toThrow(
      'assembly-dev/manifest.json lists stack devQueue with template devQueue.template.json, which the artifact does not hold',
    );
  });
});

describe('manifest pieces', () => {
  test('stacksOfManifest: stack artifacts only; a stack without templateFile is an error', () => {
    expect(stacksOfManifest(devManifest(), 'm').map((s) => s.artifactId)).toEqual(['devAppStackA1B2C3D4', 'devQueue']);
    expect(stacksOfManifest({ version: '1' }, 'm')).toEqual([]);
    expect(() => stacksOfManifest([], 'm')).toThrow('m is not a cloud-assembly manifest (got [])');
    expect(() => stacksOfManifest({ artifacts: [] }, 'm')).toThrow('m: "artifacts" is not an object (got [])');
    expect(() => stacksOfManifest({ artifacts: { s: { type: 'aws:cloudformation:stack', properties: {} } } }, 'm'))
      .toThrow('m: artifacts.s.properties.templateFile is missing; expected the stack\'s template file');
  });

  test('parseEnvironment: aws://account/region; unknown-account and unknown-region are undefined', () => {
    expect(parseEnvironment('aws://111111111111/eu-west-1')).toEqual({ account: '111111111111', region: 'eu-west-1' });
    expect(parseEnvironment('aws://unknown-account/eu-west-1')).toEqual({ account: undefined, region: 'eu-west-1' });
    expect(parseEnvironment('aws://111111111111/unknown-region')).toEqual({ account: '111111111111', region: undefined });
    expect(parseEnvironment(undefined)).toEqual({});
    expect(parseEnvironment('111111111111/eu-west-1')).toEqual({});
  });

  test('assemblyDirectory and zipEntryNames', () => {
    const zip = zipSync(files('cdk.out/'));
    const entries = new Set(zipEntryNames(zip));
    expect(entries.has('cdk.out/assembly-dev/manifest.json')).toBe(true);
    expect(assemblyDirectory(entries, 'assembly-dev/')).toBe('cdk.out/assembly-dev');
    expect(assemblyDirectory(entries, 'assembly-qa')).toBeUndefined();
  });
});
