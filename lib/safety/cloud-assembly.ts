/* eslint-disable no-bitwise -- a zip reader: flags, CRC-32 and little-endian fields are bit operations */
// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with fflate, into dist/lambda/change-review; the library entry point never loads it
import { inflateSync } from 'fflate';
import { isObj, show, str } from '../input-values';

/*
 * Reading a zipped cloud assembly (the synth artifact: `cdk.out` as CodeBuild zips it) for the
 * change review, by byte ranges: the artifact can hold hundreds of MB of assets (Lambda code,
 * Docker contexts), so the reader never holds it whole. It reads the end of central directory
 * record (and the ZIP64 records), the central directory, then, of the nested assemblies asked
 * for, each `manifest.json` and the templates it lists: local file header and compressed data
 * of those entries only. Every other entry's bytes are never requested. Pure over the port
 * `ReadRange` (the handler's S3 ranged GetObject; tests read in-memory zips).
 *
 * Zip structures (PKWARE APPNOTE.TXT 6.3.x, section 4.3): end of central directory record 4.3.16
 * (22 bytes + a comment of up to 65,535), ZIP64 end of central directory locator 4.3.15 (20
 * bytes, just before it) and record 4.3.14 (56 bytes + extensible data), central directory
 * file header 4.3.12 (46 bytes + name, extra, comment), local file header 4.3.7 (30 bytes + name,
 * extra), ZIP64 extended information extra field 4.5.3 (id 0x0001: uncompressed size,
 * compressed size, local header offset, disk, each present only when its header field is
 * 0xFFFFFFFF / 0xFFFF). Sizes come from the central directory, so entries written with data
 * descriptors (general-purpose bit 3: zero sizes in the local header) read the same.
 *
 * Requests for one review (worst case), with A nested assemblies and S stacks in them:
 *   1 tail (the last 65,633 bytes: EOCD, comment, ZIP64 locator and record)
 *   + 1 ZIP64 record, only when its extensible data pushes it out of the tail
 *   + 1 central directory, unless the tail already holds it (small zips)
 *   + per manifest and template, 1 (local header + data, bounded by the next entry's header),
 *     2 when the local header's name and extra run past what the central directory announced
 *   = at most 3 + 2 * (A + S); typically 2 + A + S. The handler adds one HeadObject (the size).
 *
 * A nested assembly's manifest lists its stacks as artifacts of type `aws:cloudformation:stack`
 * (the cloud-assembly schema): `environment` "aws://<account>/<region>", `properties.templateFile`
 * (relative to the assembly's directory), `properties.stackName` (the artifact id when absent) and
 * `properties.lookupRole.arn`.
 */

/**
 * Reads bytes `start` to `endInclusive` (zero-based, both included, as HTTP's `Range:
 * bytes=start-end`) of the zip. Must return exactly `endInclusive - start + 1` bytes.
 */
export type ReadRange = (start: number, endInclusive: number) => Promise<Uint8Array>;

/** A zip read by byte ranges. */
export interface ZipSource {
  /** The zip's size in bytes (S3 HeadObject's ContentLength). */
  readonly size: number;
  readonly read: ReadRange;
}

/** A zipped cloud assembly: read by ranges, or (tests, small zips) in memory. */
export type AssemblySource = ZipSource | Uint8Array;

/** An in-memory zip as a `ZipSource`. */
export function bytesSource(bytes: Uint8Array): ZipSource {
  return { size: bytes.length, read: async (start, end) => bytes.subarray(start, end + 1) };
}

/** Limits of the reader (they bound the function's memory; see the ChangeReview function). */
export const ZIP_LIMITS = {
  /** End of central directory record, without its comment. */
  eocdBytes: 22,
  /** A zip comment's maximum (its length is a 16-bit field). */
  maxCommentBytes: 65_535,
  zip64LocatorBytes: 20,
  zip64RecordBytes: 56,
  /** The tail read first: EOCD + the longest comment + ZIP64 locator + ZIP64 record. */
  tailBytes: 22 + 65_535 + 20 + 56,
  /** The central directory read whole: ~150,000 entries of 200 bytes (asset trees, Docker contexts). */
  maxCentralDirectoryBytes: 32 * 1024 * 1024,
  /** One manifest or template, inflated (CloudFormation takes templates of up to 1 MB from S3). */
  maxEntryBytes: 16 * 1024 * 1024,
} as const;

const SIG = {
  eocd: 0x06054b50,
  zip64Locator: 0x07064b50,
  zip64Record: 0x06064b50,
  central: 0x02014b50,
  local: 0x04034b50,
} as const;

/** One entry of the central directory. */
export interface ZipEntry {
  /** The name as stored (UTF-8 when general-purpose bit 11 is set, else each byte as a character). */
  readonly name: string;
  /** General-purpose bit flag (bit 0: encrypted; bit 3: data descriptor; bit 11: UTF-8 name). */
  readonly flags: number;
  /** Compression method: 0 stored, 8 deflate. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Offset of the entry's local file header. */
  readonly localHeaderOffset: number;
  /** Name and extra field lengths in the central directory (the local header's may differ). */
  readonly nameLength: number;
  readonly extraLength: number;
}

/** The artifact is not a readable cloud assembly, or lacks what is asked for. */
export class CloudAssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudAssemblyError';
  }
}

function unreadable(why: string): CloudAssemblyError {
  return new CloudAssemblyError(`the artifact is not a readable zip (${why})`);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(v: DataView, at: number, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw unreadable(`${what} ${n} is beyond 2^53`);
  return Number(n);
}

async function readChecked(src: ZipSource, start: number, end: number, what: string): Promise<Uint8Array> {
  if (start < 0 || end >= src.size || end < start) throw unreadable(`${what} at bytes ${start}-${end} lies outside the ${src.size}-byte zip`);
  const bytes = await src.read(start, end);
  if (bytes.length !== end - start + 1) {
    throw new CloudAssemblyError(`reading ${what} (bytes ${start}-${end}) returned ${bytes.length} bytes, expected ${end - start + 1}; did the artifact change while it was read?`);
  }
  return bytes;
}

/** The central directory: its entries by name (offsets into `bytes`) and the sorted local header offsets. */
export class CentralDirectory {
  /** Reads the tail, the ZIP64 records when present, and the central directory. */
  static async read(src: ZipSource): Promise<CentralDirectory> {
    if (!Number.isSafeInteger(src.size) || src.size < ZIP_LIMITS.eocdBytes) throw unreadable(`${src.size} bytes, shorter than an end of central directory record`);
    const tailStart = Math.max(0, src.size - ZIP_LIMITS.tailBytes);
    const tail = await readChecked(src, tailStart, src.size - 1, 'the end of central directory');
    const v = dataView(tail);
    const at = findEocd(tail);
    if (at < 0) throw unreadable('no end of central directory record in its last 65,557 bytes');
    let disk = v.getUint16(at + 4, true);
    let cdDisk = v.getUint16(at + 6, true);
    let count = v.getUint16(at + 10, true);
    let cdSize = v.getUint32(at + 12, true);
    let cdOffset = v.getUint32(at + 16, true);
    let cdEnd = tailStart + at; // the central directory ends where the (ZIP64) end records begin
    const loc = at - ZIP_LIMITS.zip64LocatorBytes;
    if (loc >= 0 && v.getUint32(loc, true) === SIG.zip64Locator) {
      const recordOffset = u64(v, loc + 8, 'the ZIP64 end of central directory offset');
      if (v.getUint32(loc + 4, true) !== 0 || v.getUint32(loc + 16, true) > 1) throw unreadable('it spans several disks (ZIP64 locator); expected a single-file zip');
      const inTail = recordOffset >= tailStart && recordOffset + ZIP_LIMITS.zip64RecordBytes <= tailStart + loc;
      const record = inTail
        ? tail.subarray(recordOffset - tailStart, recordOffset - tailStart + ZIP_LIMITS.zip64RecordBytes)
        : await readChecked(src, recordOffset, recordOffset + ZIP_LIMITS.zip64RecordBytes - 1, 'the ZIP64 end of central directory record');
      const r = dataView(record);
      if (r.getUint32(0, true) !== SIG.zip64Record) throw unreadable(`no ZIP64 end of central directory record at offset ${recordOffset}, where its locator points`);
      disk = r.getUint32(16, true);
      cdDisk = r.getUint32(20, true);
      count = u64(r, 32, 'the ZIP64 entry count');
      cdSize = u64(r, 40, 'the ZIP64 central directory size');
      cdOffset = u64(r, 48, 'the ZIP64 central directory offset');
      cdEnd = recordOffset;
    }
    if (disk !== 0 || cdDisk !== 0) throw unreadable('it spans several disks; expected a single-file zip');
    if (cdOffset + cdSize > cdEnd) throw unreadable(`its central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end records at ${cdEnd}`);
    if (cdSize > ZIP_LIMITS.maxCentralDirectoryBytes) {
      throw new CloudAssemblyError(`the artifact's central directory is ${cdSize} bytes (${count} entries), over the change review's ${ZIP_LIMITS.maxCentralDirectoryBytes}-byte limit. `
        + 'Fix: keep build outputs out of cdk.out (asset exclude patterns, .dockerignore) so the synth artifact lists fewer files');
    }
    const bytes = cdOffset >= tailStart
      ? tail.subarray(cdOffset - tailStart, cdOffset - tailStart + cdSize)
      : await readChecked(src, cdOffset, cdOffset + cdSize - 1, 'the central directory');
    return new CentralDirectory(bytes, count, cdOffset);
  }

  private readonly byName = new Map<string, number>();
  private readonly starts: number[];
  private readonly view: DataView;

  private constructor(private readonly bytes: Uint8Array, count: number, private readonly cdOffset: number) {
    this.view = dataView(bytes);
    const starts: number[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > bytes.length || this.view.getUint32(p, true) !== SIG.central) throw unreadable(`central directory entry ${i} of ${count} is not a file header (offset ${cdOffset + p})`);
      const entry = this.entryAt(p);
      this.byName.set(normalize(entry.name), p);
      starts.push(entry.localHeaderOffset);
      p += 46 + entry.nameLength + entry.extraLength + this.view.getUint16(p + 32, true);
    }
    this.starts = starts.sort((a, b) => a - b);
  }

  /** The entries' names, normalized (no `./`, forward slashes, no trailing slash). */
  names(): Set<string> {
    return new Set(this.byName.keys());
  }

  /** The entry of a normalized name. */
  entry(name: string): ZipEntry | undefined {
    const p = this.byName.get(name);
    return p === undefined ? undefined : this.entryAt(p);
  }

  private entryAt(p: number): ZipEntry {
    const v = this.view;
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    if (p + 46 + nameLength + extraLength > this.bytes.length) throw unreadable(`a central directory entry at offset ${this.cdOffset + p} runs past the directory`);
    const flags = v.getUint16(p + 8, true);
    const rawName = this.bytes.subarray(p + 46, p + 46 + nameLength);
    const name = flags & 0x800 ? new TextDecoder().decode(rawName) : String.fromCharCode(...rawName);
    let uncompressedSize = v.getUint32(p + 24, true);
    let compressedSize = v.getUint32(p + 20, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const diskStart = v.getUint16(p + 34, true);
    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff || diskStart === 0xffff) {
      const zip64 = extraField(this.bytes.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength), 0x0001);
      if (!zip64) throw unreadable(`entry ${name} has 32-bit fields set to 0xFFFFFFFF but no ZIP64 extra field (0x0001)`);
      const z = dataView(zip64);
      let q = 0;
      const next = (what: string) => {
        if (q + 8 > zip64.length) throw unreadable(`entry ${name}'s ZIP64 extra field lacks its ${what}`);
        const n = u64(z, q, `entry ${name}'s ${what}`);
        q += 8;
        return n;
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = next('uncompressed size');
      if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('local header offset');
    }
    return {
      name,
      flags,
      method: v.getUint16(p + 10, true),
      crc32: v.getUint32(p + 16, true),
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
      nameLength,
      extraLength,
    };
  }

  /** Where the entry at `offset` ends at the latest: the next local header, or the central directory. */
  regionEnd(offset: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.starts.length ? this.starts[lo] : this.cdOffset;
  }
}

/** The offset of the end of central directory record in `tail`, searching back over the comment; -1 when absent. */
function findEocd(tail: Uint8Array): number {
  const v = dataView(tail);
  let fits = -1;
  for (let i = tail.length - ZIP_LIMITS.eocdBytes; i >= 0; i--) {
    if (v.getUint32(i, true) !== SIG.eocd) continue;
    const end = i + ZIP_LIMITS.eocdBytes + v.getUint16(i + 20, true);
    if (end === tail.length) return i;
    if (end < tail.length && fits < 0) fits = i; // bytes after the comment: the closest record that fits
  }
  return fits;
}

/** The data of extra field `id` in an extra-field block (4.5.1: id, size, data; repeated). */
function extraField(extra: Uint8Array, id: number): Uint8Array | undefined {
  const v = dataView(extra);
  for (let p = 0; p + 4 <= extra.length;) {
    const size = v.getUint16(p + 2, true);
    if (v.getUint16(p, true) === id) return extra.subarray(p + 4, Math.min(extra.length, p + 4 + size));
    p += 4 + size;
  }
  return undefined;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as zip uses it). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One entry's content: reads its local header and compressed data (one request; a second when
 * the local name and extra run past what the central directory announced), then inflates it.
 *
 * @throws CloudAssemblyError for encrypted entries, methods other than stored (0) and deflate
 *   (8), entries over ZIP_LIMITS.maxEntryBytes, and damaged data (sizes, CRC-32)
 */
export async function readEntry(src: ZipSource, cd: CentralDirectory, entry: ZipEntry): Promise<Uint8Array> {
  const what = `entry ${entry.name}`;
  if (entry.flags & 0x1) throw new CloudAssemblyError(`${what} is encrypted (general-purpose bit 0); the change review reads unencrypted zips only. Fix: do not encrypt the synth artifact's zip (S3/KMS encryption is fine)`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new CloudAssemblyError(`${what} uses compression method ${entry.method}; the change review inflates stored (0) and deflate (8) entries only. Fix: zip cdk.out with deflate (CodeBuild's artifact zips do)`);
  }
  if (entry.uncompressedSize > ZIP_LIMITS.maxEntryBytes) {
    throw new CloudAssemblyError(`${what} is ${entry.uncompressedSize} bytes, over the change review's ${ZIP_LIMITS.maxEntryBytes}-byte limit for a manifest or template (CloudFormation takes templates of up to 1 MB)`);
  }
  const start = entry.localHeaderOffset;
  const announced = 30 + entry.nameLength + entry.extraLength + entry.compressedSize;
  const end = Math.min(cd.regionEnd(start), start + announced) - 1;
  let bytes = await readChecked(src, start, end, `${what}'s local header and data`);
  const v = dataView(bytes);
  if (bytes.length < 30 || v.getUint32(0, true) !== SIG.local) throw unreadable(`no local file header for ${what} at offset ${start}`);
  const dataStart = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > bytes.length) {
    // the local header's name or extra is longer than the central directory's: read the rest
    const rest = await readChecked(src, start + bytes.length, start + dataEnd - 1, `the rest of ${what}'s data`);
    const joined = new Uint8Array(dataEnd);
    joined.set(bytes);
    joined.set(rest, bytes.length);
    bytes = joined;
  }
  const compressed = bytes.subarray(dataStart, dataEnd);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = compressed;
  } else {
    try {
      data = inflateSync(compressed, { out: new Uint8Array(entry.uncompressedSize) });
    } catch (e) {
      throw unreadable(`${what} does not inflate: ${(e as Error).message}`);
    }
  }
  if (data.length !== entry.uncompressedSize) throw unreadable(`${what} holds ${data.length} bytes; its central directory says ${entry.uncompressedSize}`);
  if (crc32(data) !== entry.crc32) throw unreadable(`${what} fails its CRC-32 check`);
  return data;
}

/** The artifact type of a CloudFormation stack in a cloud-assembly manifest. */
export const STACK_ARTIFACT_TYPE = 'aws:cloudformation:stack';

/** A CloudFormation template as JSON. */
export type Template = Record<string, unknown>;

/** One stack of a nested assembly, with its synthesized template. */
export interface AssemblyStack {
  /** The artifact id in the manifest. */
  readonly artifactId: string;
  readonly stackName: string;
  /** The template file, relative to the nested assembly's directory. */
  readonly templateFile: string;
  /** From `environment` "aws://account/region"; undefined when environment-agnostic. */
  readonly account?: string;
  readonly region?: string;
  /** `properties.lookupRole.arn` as the manifest has it (may hold `${AWS::Partition}`). */
  readonly lookupRoleArn?: string;
  readonly template: Template;
}

/** One nested assembly read from the artifact. */
export interface NestedAssembly {
  /** The assembly as asked for (e.g. `assembly-dev`). */
  readonly assembly: string;
  /** Its directory inside the zip (e.g. `cdk.out/assembly-dev`). */
  readonly directory: string;
  readonly stacks: AssemblyStack[];
}

function normalize(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function sourceOf(source: AssemblySource): ZipSource {
  return source instanceof Uint8Array ? bytesSource(source) : source;
}

/** The zip's entry names (normalized), from its central directory only. */
export async function zipEntryNames(source: AssemblySource): Promise<string[]> {
  return [...(await CentralDirectory.read(sourceOf(source))).names()];
}

/** The contents of the entries `wanted` (normalized names) that the zip holds, one entry at a time. */
async function inflate(src: ZipSource, cd: CentralDirectory, wanted: ReadonlySet<string>): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  for (const name of wanted) {
    const entry = cd.entry(name);
    if (entry) found.set(name, await readEntry(src, cd, entry));
  }
  return found;
}

/**
 * The directory of a nested assembly inside the zip: `assembly` as given, or under `cdk.out/`,
 * or without its `cdk.out/` prefix (the artifact's root may be `cdk.out` itself or its parent).
 */
export function assemblyDirectory(entries: ReadonlySet<string>, assembly: string): string | undefined {
  const a = normalize(assembly);
  const candidates = [a, `cdk.out/${a}`, a.replace(/^cdk\.out\//, '')];
  return candidates.find((dir) => entries.has(dir === '' ? 'manifest.json' : `${dir}/manifest.json`));
}

function join(dir: string, file: string): string {
  return normalize(dir === '' ? file : `${dir}/${file}`);
}

function parseJson(data: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (e) {
    throw new CloudAssemblyError(`${where} is not JSON (${(e as Error).message})`);
  }
}

/** `aws://account/region` as account and region; unknown-account/unknown-region as undefined. */
export function parseEnvironment(environment: unknown): { account?: string; region?: string } {
  const m = typeof environment === 'string' ? /^aws:\/\/([^/]+)\/([^/]+)$/.exec(environment) : null;
  if (!m) return {};
  return {
    account: /^\d{12}$/.test(m[1]) ? m[1] : undefined,
    region: m[2] === 'unknown-region' ? undefined : m[2],
  };
}

/** A stack as its manifest lists it, before its template is read. */
type StackEntry = Omit<AssemblyStack, 'template'>;

/** The stack artifacts of a parsed nested manifest (`where` names it in errors). */
export function stacksOfManifest(manifest: unknown, where: string): StackEntry[] {
  if (!isObj(manifest)) throw new CloudAssemblyError(`${where} is not a cloud-assembly manifest (got ${show(manifest)})`);
  const artifacts = manifest.artifacts ?? {};
  if (!isObj(artifacts)) throw new CloudAssemblyError(`${where}: "artifacts" is not an object (got ${show(artifacts)})`);
  const stacks: StackEntry[] = [];
  for (const [artifactId, artifact] of Object.entries(artifacts)) {
    if (!isObj(artifact) || artifact.type !== STACK_ARTIFACT_TYPE) continue;
    const props = isObj(artifact.properties) ? artifact.properties : {};
    const templateFile = str(props.templateFile);
    if (!templateFile) throw new CloudAssemblyError(`${where}: artifacts.${artifactId}.properties.templateFile is missing; expected the stack's template file`);
    const lookupRole = isObj(props.lookupRole) ? str(props.lookupRole.arn) : undefined;
    stacks.push({
      artifactId,
      stackName: str(props.stackName) ?? artifactId,
      templateFile,
      ...parseEnvironment(artifact.environment),
      ...(lookupRole ? { lookupRoleArn: lookupRole } : {}),
    });
  }
  return stacks;
}

/**
 * The stacks (with templates) of the nested assemblies `assemblies` of a zipped cloud assembly.
 * Reads the central directory, then only their `manifest.json` and the templates they list
 * (each template parsed as soon as it is read, so one template's bytes are held at a time).
 *
 * @throws CloudAssemblyError when the zip is unreadable, an assembly is missing, or a manifest or
 *   template is not JSON
 */
export async function readNestedAssemblies(source: AssemblySource, assemblies: readonly string[]): Promise<NestedAssembly[]> {
  const src = sourceOf(source);
  const cd = await CentralDirectory.read(src);
  const entries = cd.names();
  const dirs = assemblies.map((assembly) => {
    const directory = assemblyDirectory(entries, assembly);
    if (directory === undefined) {
      const present = [...entries].filter((e) => /(^|\/)assembly-[^/]+\/manifest\.json$/.test(e)).map((e) => e.replace(/\/manifest\.json$/, ''));
      throw new CloudAssemblyError(`the cloud assembly has no nested assembly "${assembly}" (looked for ${assembly}/manifest.json and cdk.out/${assembly}/manifest.json; `
        + `it has ${present.length ? present.slice(0, 10).join(', ') : 'none'}). The stage's targets must match the app's stages: synthesize the app with the delivery pipeline's stages`);
    }
    return { assembly, directory };
  });
  const manifests = await inflate(src, cd, new Set(dirs.map((d) => join(d.directory, 'manifest.json'))));
  const listed = dirs.map((d) => {
    const path = join(d.directory, 'manifest.json');
    return { ...d, stacks: stacksOfManifest(parseJson(manifests.get(path)!, path), path) };
  });
  manifests.clear();
  const templates = new Map<string, Template>();
  for (const d of listed) {
    for (const s of d.stacks) {
      const path = join(d.directory, s.templateFile);
      if (templates.has(path)) continue;
      const entry = cd.entry(path);
      if (!entry) throw new CloudAssemblyError(`${join(d.directory, 'manifest.json')} lists stack ${s.stackName} with template ${s.templateFile}, which the artifact does not hold`);
      const template = parseJson(await readEntry(src, cd, entry), path);
      if (!isObj(template)) throw new CloudAssemblyError(`${path} is not a CloudFormation template (got ${show(template)})`);
      templates.set(path, template);
    }
  }
  return listed.map((d) => ({
    assembly: d.assembly,
    directory: d.directory,
    stacks: d.stacks.map((s) => ({ ...s, template: templates.get(join(d.directory, s.templateFile))! })),
  }));
}
