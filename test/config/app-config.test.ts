import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DdkAppConfig, DdkConfig } from '../../lib';
import { SEED_DDK_JSON } from '../helpers';

function writeDdkJson(doc: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ddk-app-config-')), 'custom-ddk.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('DdkAppConfig', () => {
  test('reads the file named by the ddkConfig context value (cdk synth -c ddkConfig=...), from any construct of the app', () => {
    const file = writeDdkJson(SEED_DDK_JSON);
    const app = new App({ context: { ddkConfig: file } });
    const child = new Construct(app, 'Child');
    expect(DdkAppConfig.fileOf(child)).toBe(file);
    const config = DdkAppConfig.load(child);
    expect(config).toBeInstanceOf(DdkConfig);
    expect(config.file).toBe(file);
    expect(config.targets.map(e => e.id)).toEqual(['dev', 'prod']);
  });

  test('without the context value, the app reads ./ddk.json', () => {
    expect(DdkAppConfig.fileOf(new App())).toBe('ddk.json');
    expect(DdkAppConfig.CONTEXT_KEY).toBe('ddkConfig');
  });

  test.each([
    ['a number', 5, '5'],
    ['an empty string', '', '""'],
    ['an object', { path: 'ddk.json' }, '{"path":"ddk.json"}'],
  ])('a context value that is %s is refused with the value and the fix', (_, value, rendered) => {
    const app = new App({ context: { ddkConfig: value } });
    expect(() => DdkAppConfig.load(app)).toThrow(`context value "ddkConfig": ${rendered} is not a file path; expected the path of a ddk.json file. Fix: pass -c ddkConfig=path/to/ddk.json`);
  });

  test('a missing file names the path the context gave', () => {
    const missing = join(tmpdir(), 'no-such-dir-ddk', 'ddk.json');
    const app = new App({ context: { ddkConfig: missing } });
    expect(() => DdkAppConfig.load(app)).toThrow(`${missing}: cannot be read (ENOENT)`);
  });

  test('warnings of the file go to standard error, as the default app prints them', () => {
    const file = writeDdkJson({ ...SEED_DDK_JSON, owner: 'data-team' });
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => { written.push(String(chunk)); return true; });
    try {
      const config = DdkAppConfig.load(new App({ context: { ddkConfig: file } }));
      expect(config.warnings).toHaveLength(1);
      expect(written).toEqual([`[Warning] ${config.warnings[0]}\n`]);
      expect(written[0]).toContain('unknown top-level key "owner"');
    } finally {
      spy.mockRestore();
    }
  });
});
