/* eslint-disable no-bitwise -- zips written byte by byte: flags, CRC-32 and little-endian fields are bit operations */
import { crc32 as zlibCrc32 } from 'zlib';
import { deflateSync, strToU8, Zip, ZipDeflate, zipSync, Zippable } from 'fflate';
import { localRegions } from './fixtures/zip';
import {
  assemblyDirectory, bytesSource, CentralDirectory, CloudAssemblyError, crc32, parseEnvironment, readNestedAssemblies, stacksOfManifest,
  ZIP_LIMITS, zipEntryNames, ZipSource,
} from '../../lib/safety/cloud-assembly';

/*
 * Reading the zipped cloud assembly (the synth artifact) as CodeBuild zips cdk.out, by byte
 * ranges: only the end records, the central directory and the nested assemblies' manifest.json
 * and their stacks' templates are read; the root may be cdk.out itself or its parent. The zips
 * are real (fflate) or written here byte by byte (ZIP64, comments, data descriptors, odd headers).
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
  test('lists each stack: artifact id, stackName (the artifact id when absent), templateFile, account/region, lookup role, template', async () => {
    const [dev] = await readNestedAssemblies(zipSync(files('')), ['assembly-dev']);
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

  test('the artifact root may be cdk.out\'s parent, and the assembly may be given with or without cdk.out/', async () => {
    const nested = zipSync(files('cdk.out/'));
    expect((await readNestedAssemblies(nested, ['assembly-dev']))[0].directory).toBe('cdk.out/assembly-dev');
    expect((await readNestedAssemblies(nested, ['cdk.out/assembly-dev']))[0].stacks.map((s) => s.stackName)).toEqual(['dev-App', 'devQueue']);
    expect((await readNestedAssemblies(zipSync(files('')), ['cdk.out/assembly-dev']))[0].directory).toBe('assembly-dev');
    expect((await readNestedAssemblies(zipSync(files('./')), ['assembly-dev']))[0].stacks).toHaveLength(2);
  });

  test('inflates only the manifests and templates it needs: other entries are never decompressed', async () => {
    const zip = poison(zipSync(files('')), ['tree.json', 'manifest.json', 'assembly-dev/asset.3f1b9c6e/index.js', 'assembly-prod/manifest.json']);
    // GIVEN the poisoned entries would fail if inflated (the guard of this test)
    await expect(readNestedAssemblies(zip, ['assembly-prod'])).rejects.toThrow('entry assembly-prod/manifest.json uses compression method 99');
    // THEN reading assembly-dev never touches them
    expect((await readNestedAssemblies(zip, ['assembly-dev']))[0].stacks).toHaveLength(2);
  });

  test('an assembly without stacks lists none', async () => {
    expect((await readNestedAssemblies(zipSync(files('')), ['assembly-prod']))[0].stacks).toEqual([]);
  });

  test('a missing nested assembly names what the artifact has', async () => {
    await expect(readNestedAssemblies(zipSync(files('cdk.out/')), ['assembly-qa'])).rejects.toThrow(new CloudAssemblyError(
      'the cloud assembly has no nested assembly "assembly-qa" (looked for assembly-qa/manifest.json and cdk.out/assembly-qa/manifest.json; it has cdk.out/assembly-dev, cdk.out/assembly-prod). '
      + 'The stage\'s targets must match the app\'s stages: synthesize the app with the delivery pipeline\'s stages',
    ));
  });

  test('unreadable input: not a zip, a manifest or template that is not JSON, a listed template missing', async () => {
    await expect(readNestedAssemblies(strToU8('PK? no'), ['assembly-dev'])).rejects.toThrow(/^the artifact is not a readable zip/);
    await expect(readNestedAssemblies(strToU8('<html>not a zip, but longer than an end record</html>'), ['assembly-dev'])).rejects.toThrow(
      'the artifact is not a readable zip (no end of central directory record in its last 65,557 bytes)',
    );
    const badManifest = { ...files(''), 'assembly-dev/manifest.json': strToU8('{') };
    await expect(readNestedAssemblies(zipSync(badManifest), ['assembly-dev'])).rejects.toThrow(/^assembly-dev\/manifest\.json is not JSON/);
    const badTemplate = { ...files(''), 'assembly-dev/devQueue.template.json': strToU8('Resources: {}') };
    await expect(readNestedAssemblies(zipSync(badTemplate), ['assembly-dev'])).rejects.toThrow(/^assembly-dev\/devQueue\.template\.json is not JSON/);
    const arrayTemplate = { ...files(''), 'assembly-dev/devQueue.template.json': strToU8('[]') };
    await expect(readNestedAssemblies(zipSync(arrayTemplate), ['assembly-dev'])).rejects.toThrow('assembly-dev/devQueue.template.json is not a CloudFormation template (got [])');
    const { ['assembly-dev/devQueue.template.json']: _gone, ...noTemplate } = files('');
    await expect(readNestedAssemblies(zipSync(noTemplate), ['assembly-dev'])).rejects.toThrow(
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

  test('assemblyDirectory and zipEntryNames', async () => {
    const zip = zipSync(files('cdk.out/'));
    const entries = new Set(await zipEntryNames(zip));
    expect(entries.has('cdk.out/assembly-dev/manifest.json')).toBe(true);
    expect(assemblyDirectory(entries, 'assembly-dev/')).toBe('cdk.out/assembly-dev');
    expect(assemblyDirectory(entries, 'assembly-qa')).toBeUndefined();
  });
});

/** A source over `zip` that records every requested range (inclusive ends, as S3's Range). */
function recorded(zip: Uint8Array): { source: ZipSource; ranges: Array<[number, number]> } {
  const ranges: Array<[number, number]> = [];
  return { ranges, source: { size: zip.length, read: async (start, end) => { ranges.push([start, end]); return zip.subarray(start, end + 1); } } };
}


function overlaps(a: [number, number], b: [number, number]): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/** Bytes that do not compress (a Lambda bundle or a Docker layer stands in). */
function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift32
    out[i] = x & 0xff;
  }
  return out;
}

interface RawEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** 8 (default) or 0, or any method to refuse. */
  readonly method?: number;
  readonly flags?: number;
  /** Extra bytes in the local header only (its lengths then differ from the central directory's). */
  readonly localPadding?: number;
}

interface RawZipOptions {
  /** Write ZIP64: sentinels in the headers and EOCD, 0x0001 extra fields, ZIP64 record and locator. */
  readonly zip64?: boolean;
  readonly comment?: Uint8Array;
  /** Bytes of extensible data in the ZIP64 record. */
  readonly extensible?: number;
  /** An extended-timestamp extra field (0x5455) before the ZIP64 one in the central directory. */
  readonly timestampFirst?: boolean;
}

/** A zip written byte by byte (APPNOTE 4.3), for what fflate does not write. */
function rawZip(entries: RawEntry[], options: RawZipOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array) => { parts.push(b); offset += b.length; };
  const central: Uint8Array[] = [];
  for (const e of entries) {
    const method = e.method ?? 8;
    const data = method === 8 ? deflateSync(e.data) : e.data;
    const name = strToU8(e.name);
    const crc = zlibCrc32(e.data);
    const local = offset;
    const localExtra = new Uint8Array((options.zip64 ? 20 : 0) + (e.localPadding ? 4 + e.localPadding : 0));
    const lx = new DataView(localExtra.buffer);
    if (options.zip64) {
      lx.setUint16(0, 0x0001, true); lx.setUint16(2, 16, true);
      lx.setBigUint64(4, BigInt(e.data.length), true); lx.setBigUint64(12, BigInt(data.length), true);
    }
    if (e.localPadding) { lx.setUint16(options.zip64 ? 20 : 0, 0xcafe, true); lx.setUint16((options.zip64 ? 20 : 0) + 2, e.localPadding, true); }
    const lh = new Uint8Array(30);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true); l.setUint16(4, options.zip64 ? 45 : 20, true); l.setUint16(6, e.flags ?? 0, true); l.setUint16(8, method, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, options.zip64 ? 0xffffffff : data.length, true); l.setUint32(22, options.zip64 ? 0xffffffff : e.data.length, true);
    l.setUint16(26, name.length, true); l.setUint16(28, localExtra.length, true);
    push(lh); push(name); push(localExtra); push(data);
    const ts = options.timestampFirst ? 9 : 0;
    const cx = new Uint8Array((options.zip64 ? 28 : 0) + ts);
    const x = new DataView(cx.buffer);
    if (ts) { x.setUint16(0, 0x5455, true); x.setUint16(2, 5, true); x.setUint8(4, 1); x.setUint32(5, 1_700_000_000, true); }
    if (options.zip64) {
      x.setUint16(ts, 0x0001, true); x.setUint16(ts + 2, 24, true);
      x.setBigUint64(ts + 4, BigInt(e.data.length), true); x.setBigUint64(ts + 12, BigInt(data.length), true);
      x.setBigUint64(ts + 20, BigInt(local), true);
    }
    const ch = new Uint8Array(46);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true); c.setUint16(4, 0x031e, true); c.setUint16(6, options.zip64 ? 45 : 20, true); c.setUint16(8, e.flags ?? 0, true);
    c.setUint16(10, method, true); c.setUint32(16, crc, true);
    c.setUint32(20, options.zip64 ? 0xffffffff : data.length, true); c.setUint32(24, options.zip64 ? 0xffffffff : e.data.length, true);
    c.setUint16(28, name.length, true); c.setUint16(30, cx.length, true); c.setUint32(42, options.zip64 ? 0xffffffff : local, true);
    central.push(ch, name, cx);
  }
  const cdOffset = offset;
  for (const b of central) push(b);
  const cdSize = offset - cdOffset;
  if (options.zip64) {
    const ext = options.extensible ?? 0;
    const record = new Uint8Array(56 + ext);
    const r = new DataView(record.buffer);
    r.setUint32(0, 0x06064b50, true); r.setBigUint64(4, BigInt(44 + ext), true); r.setUint16(12, 45, true); r.setUint16(14, 45, true);
    r.setBigUint64(24, BigInt(entries.length), true); r.setBigUint64(32, BigInt(entries.length), true);
    r.setBigUint64(40, BigInt(cdSize), true); r.setBigUint64(48, BigInt(cdOffset), true);
    const recordOffset = offset;
    push(record);
    const locator = new Uint8Array(20);
    const lc = new DataView(locator.buffer);
    lc.setUint32(0, 0x07064b50, true); lc.setBigUint64(8, BigInt(recordOffset), true); lc.setUint32(16, 1, true);
    push(locator);
  }
  const comment = options.comment ?? new Uint8Array(0);
  const eocd = new Uint8Array(22);
  const d = new DataView(eocd.buffer);
  d.setUint32(0, 0x06054b50, true);
  d.setUint16(8, options.zip64 ? 0xffff : entries.length, true); d.setUint16(10, options.zip64 ? 0xffff : entries.length, true);
  d.setUint32(12, options.zip64 ? 0xffffffff : cdSize, true); d.setUint32(16, options.zip64 ? 0xffffffff : cdOffset, true);
  d.setUint16(20, comment.length, true);
  push(eocd); push(comment);
  const out = new Uint8Array(offset);
  let p = 0;
  for (const b of parts) { out.set(b, p); p += b.length; }
  return out;
}

/** The dev assembly's entries (manifest, two templates) plus an asset and another stage, for rawZip. */
function rawEntries(over: Partial<Record<string, Partial<RawEntry>>> = {}): RawEntry[] {
  const f = files('cdk.out/');
  return [
    ...Object.entries(f).map(([name, data]) => ({ name, data: data as Uint8Array, ...over[name] })),
    { name: 'cdk.out/asset.abc/bundle.zip', data: noise(300_000), method: 0 },
  ];
}

describe('reading by byte ranges', () => {
  test('requests the tail, the central directory and the needed entries only: no byte of any other entry', async () => {
    // GIVEN an artifact of 1 MB of assets and 3,000 asset files (a central directory larger than the tail)
    const many: Zippable = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [
      `cdk.out/asset.${String(i).padStart(6, '0')}/node_modules/pkg/index.js`, strToU8(`module.exports = ${i};`),
    ]));
    const zip = zipSync({ ...files('cdk.out/'), ...many, 'cdk.out/asset.big/bundle.zip': noise(1_000_000) }, { level: 6 });
    const { source, ranges } = recorded(zip);

    const [dev] = await readNestedAssemblies(source, ['assembly-dev']);
    expect(dev.stacks.map((s) => s.template)).toEqual([APP_TEMPLATE, QUEUE_TEMPLATE]);

    // THEN: the tail, the central directory (before the tail), then each needed entry exactly
    const regions = localRegions(zip);
    const needed = ['cdk.out/assembly-dev/manifest.json', 'cdk.out/assembly-dev/devAppStackA1B2C3D4.template.json', 'cdk.out/assembly-dev/devQueue.template.json'];
    const tailStart = zip.length - ZIP_LIMITS.tailBytes;
    expect(ranges[0]).toEqual([tailStart, zip.length - 1]);
    const cdOffset = new DataView(zip.buffer).getUint32(zip.length - 6, true);
    expect(ranges[1]).toEqual([cdOffset, tailStart + (zip.length - 22 - tailStart) - 1]);
    expect(ranges.slice(2)).toEqual(needed.map((n) => regions.get(n)));
    // AND no requested byte belongs to another entry (the tail and directory lie after all entries)
    for (const [name, region] of regions) {
      if (needed.includes(name)) continue;
      expect(ranges.filter((r) => overlaps(r, region))).toEqual([]);
    }
    const requested = ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
    expect(requested).toBeLessThan(zip.length / 2);
  });

  test('a zip comment of the longest length (65,535 bytes), holding a false end-record signature, is searched back over', async () => {
    const comment = new Uint8Array(65_535).fill(0x20);
    comment.set([0x50, 0x4b, 0x05, 0x06], 1000); // "PK\5\6" inside the comment
    const zip = rawZip(rawEntries(), { comment });
    const { source, ranges } = recorded(zip);
    const [dev] = await readNestedAssemblies(source, ['assembly-dev']);
    expect(dev.stacks.map((s) => s.stackName)).toEqual(['dev-App', 'devQueue']);
    expect(ranges[0]).toEqual([zip.length - ZIP_LIMITS.tailBytes, zip.length - 1]);
    // a zip shorter than the tail is read whole in the first request
    const small = recorded(zipSync(files('')));
    await readNestedAssemblies(small.source, ['assembly-prod']);
    expect(small.ranges[0]).toEqual([0, small.source.size - 1]);
  });

  test('ZIP64: the locator and record give the directory; 64-bit sizes and offsets come from the 0x0001 extra field', async () => {
    const zip = rawZip(rawEntries(), { zip64: true });
    const { source, ranges } = recorded(zip);
    const cd = await CentralDirectory.read(source);
    expect(cd.entry('cdk.out/asset.abc/bundle.zip')).toMatchObject({ method: 0, compressedSize: 300_000, uncompressedSize: 300_000 });
    expect(ranges).toHaveLength(1); // the record lies in the tail
    const [dev] = await readNestedAssemblies(zip, ['cdk.out/assembly-dev']);
    expect(dev.stacks.map((s) => s.template)).toEqual([APP_TEMPLATE, QUEUE_TEMPLATE]);
    // the ZIP64 field found among other extra fields
    const [again] = await readNestedAssemblies(rawZip(rawEntries(), { zip64: true, timestampFirst: true }), ['assembly-dev']);
    expect(again.stacks.map((s) => s.template)).toEqual([APP_TEMPLATE, QUEUE_TEMPLATE]);
    // 0xFFFFFFFF sizes without a ZIP64 field are refused
    const noField = rawZip(rawEntries(), { timestampFirst: true });
    const v = new DataView(noField.buffer);
    for (let p = 0; p + 4 <= noField.length; p++) if (v.getUint32(p, true) === 0x02014b50) v.setUint32(p + 20, 0xffffffff, true);
    await expect(readNestedAssemblies(noField, ['assembly-dev'])).rejects.toThrow(/has 32-bit fields set to 0xFFFFFFFF but no ZIP64 extra field \(0x0001\)/);
  });

  test('bytes after the end record (past its comment) still find it', async () => {
    const zip = zipSync(files(''));
    const padded = new Uint8Array(zip.length + 10);
    padded.set(zip);
    expect((await readNestedAssemblies(padded, ['assembly-dev']))[0].stacks).toHaveLength(2);
  });

  test('ZIP64 with extensible data and the longest comment: the record, outside the tail, is read where the locator points', async () => {
    const zip = rawZip(rawEntries(), { zip64: true, extensible: 100, comment: new Uint8Array(65_535) });
    const { source, ranges } = recorded(zip);
    const [dev] = await readNestedAssemblies(source, ['assembly-dev']);
    expect(dev.stacks).toHaveLength(2);
    const recordOffset = Number(new DataView(zip.buffer).getBigUint64(zip.length - 65_535 - 22 - 20 + 8, true));
    expect(ranges[1]).toEqual([recordOffset, recordOffset + 55]);
  });

  test('a local header longer than the central directory says (its own extra field) costs a second request for the rest', async () => {
    const name = 'cdk.out/assembly-dev/devQueue.template.json';
    const zip = rawZip(rawEntries({ [name]: { localPadding: 300 } }));
    const { source, ranges } = recorded(zip);
    const [dev] = await readNestedAssemblies(source, ['assembly-dev']);
    expect(dev.stacks[1].template).toEqual(QUEUE_TEMPLATE);
    const cd = await CentralDirectory.read(bytesSource(zip));
    const entry = cd.entry(name)!;
    const announced = 30 + entry.nameLength + entry.extraLength + entry.compressedSize;
    expect(ranges.slice(-2)).toEqual([
      [entry.localHeaderOffset, entry.localHeaderOffset + announced - 1],
      [entry.localHeaderOffset + announced, entry.localHeaderOffset + announced + 304 - 1],
    ]);
  });

  test('entries written with data descriptors (bit 3: zero sizes in the local header) read by the central directory\'s sizes', async () => {
    const chunks: Uint8Array[] = [];
    const zip = new Zip((err, chunk) => { if (err) throw err; chunks.push(chunk); });
    for (const [name, data] of Object.entries(files(''))) {
      const entry = new ZipDeflate(name, { level: 6 });
      zip.add(entry);
      entry.push(data as Uint8Array, true);
    }
    zip.end();
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((p, c) => { bytes.set(c, p); return p + c.length; }, 0);
    expect(new DataView(bytes.buffer).getUint16(6, true) & 0x8).toBe(0x8); // the guard: a data descriptor is in use
    const [dev] = await readNestedAssemblies(bytes, ['assembly-dev']);
    expect(dev.stacks.map((s) => s.template)).toEqual([APP_TEMPLATE, QUEUE_TEMPLATE]);
  });

  test('stored entries (method 0) read as they are', async () => {
    const [dev] = await readNestedAssemblies(zipSync(files(''), { level: 0 }), ['assembly-dev']);
    expect(dev.stacks[0].template).toEqual(APP_TEMPLATE);
  });

  test('refused: encrypted entries, methods other than 0 and 8, damaged data, a zip across disks, a reader returning short', async () => {
    const manifest = 'cdk.out/assembly-dev/manifest.json';
    await expect(readNestedAssemblies(rawZip(rawEntries({ [manifest]: { flags: 1 } })), ['assembly-dev'])).rejects.toThrow(new CloudAssemblyError(
      `entry ${manifest} is encrypted (general-purpose bit 0); the change review reads unencrypted zips only. Fix: do not encrypt the synth artifact's zip (S3/KMS encryption is fine)`,
    ));
    await expect(readNestedAssemblies(rawZip(rawEntries({ [manifest]: { method: 12 } })), ['assembly-dev'])).rejects.toThrow(new CloudAssemblyError(
      `entry ${manifest} uses compression method 12; the change review inflates stored (0) and deflate (8) entries only. Fix: zip cdk.out with deflate (CodeBuild's artifact zips do)`,
    ));
    // a flipped byte in the stored data fails the CRC-32
    const zip = rawZip(rawEntries({ [manifest]: { method: 0 } }));
    const at = localRegionsOf(zip, manifest);
    const damaged = zip.slice();
    damaged[at + 10] ^= 0xff;
    await expect(readNestedAssemblies(damaged, ['assembly-dev'])).rejects.toThrow(`the artifact is not a readable zip (entry ${manifest} fails its CRC-32 check)`);
    // deflate data that does not inflate
    const deflated = rawZip(rawEntries());
    const bad = deflated.slice();
    bad.fill(0xff, localRegionsOf(deflated, manifest), localRegionsOf(deflated, manifest) + 8);
    await expect(readNestedAssemblies(bad, ['assembly-dev'])).rejects.toThrow(new RegExp(`^the artifact is not a readable zip \\(entry ${manifest} (does not inflate|holds \\d+ bytes|fails its CRC-32)`));
    // a multi-disk end record
    const split = zipSync(files('')).slice();
    new DataView(split.buffer).setUint16(split.length - 22 + 4, 1, true);
    await expect(readNestedAssemblies(split, ['assembly-dev'])).rejects.toThrow('the artifact is not a readable zip (it spans several disks; expected a single-file zip)');
    // a reader that returns fewer bytes than asked (the object changed under it)
    const whole = zipSync(files(''));
    const short: ZipSource = { size: whole.length, read: async (s, e) => whole.subarray(s, e) };
    await expect(readNestedAssemblies(short, ['assembly-dev'])).rejects.toThrow(/^reading the end of central directory \(bytes 0-\d+\) returned \d+ bytes, expected \d+; did the artifact change while it was read\?$/);
  });

  test('limits: a central directory over 32 MiB and an entry over 16 MiB are refused before they are read', async () => {
    // GIVEN a 40 MB zip whose end record announces a 33 MiB directory (only the tail is ever read)
    const size = 40 * 1024 * 1024;
    const cdSize = 33 * 1024 * 1024;
    const tail = new Uint8Array(ZIP_LIMITS.tailBytes);
    const d = new DataView(tail.buffer);
    d.setUint32(tail.length - 22, 0x06054b50, true); d.setUint16(tail.length - 22 + 10, 60_000, true);
    d.setUint32(tail.length - 22 + 12, cdSize, true); d.setUint32(tail.length - 22 + 16, size - 22 - cdSize, true);
    const ranges: Array<[number, number]> = [];
    const at = size - tail.length;
    const huge: ZipSource = { size, read: async (s, e) => { ranges.push([s, e]); return tail.subarray(s - at, e - at + 1); } };
    await expect(readNestedAssemblies(huge, ['assembly-dev'])).rejects.toThrow(
      `the artifact's central directory is ${cdSize} bytes (60000 entries), over the change review's 33554432-byte limit. `
      + 'Fix: keep build outputs out of cdk.out (asset exclude patterns, .dockerignore) so the synth artifact lists fewer files',
    );
    expect(ranges).toEqual([[size - tail.length, size - 1]]);
    // AND an entry whose directory record says 17 MiB uncompressed
    const zip = zipSync(files('')).slice();
    const v = new DataView(zip.buffer);
    for (let p = 0; p + 46 <= zip.length; p++) {
      if (v.getUint32(p, true) !== 0x02014b50) continue;
      const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + v.getUint16(p + 28, true)));
      if (name === 'assembly-dev/manifest.json') v.setUint32(p + 24, 17 * 1024 * 1024, true);
    }
    await expect(readNestedAssemblies(zip, ['assembly-dev'])).rejects.toThrow(
      'entry assembly-dev/manifest.json is 17825792 bytes, over the change review\'s 16777216-byte limit for a manifest or template (CloudFormation takes templates of up to 1 MB)',
    );
  });

  test('crc32 is zip\'s CRC-32', () => {
    for (const data of [new Uint8Array(0), strToU8('123456789'), noise(10_000)]) expect(crc32(data)).toBe(zlibCrc32(data));
    expect(crc32(strToU8('123456789'))).toBe(0xcbf43926);
  });
});

/** Where entry `name`'s data starts in a zip without data descriptors. */
function localRegionsOf(zip: Uint8Array, name: string): number {
  const [start] = localRegions(zip).get(name)!;
  const v = new DataView(zip.buffer, zip.byteOffset);
  return start + 30 + v.getUint16(start + 26, true) + v.getUint16(start + 28, true);
}
