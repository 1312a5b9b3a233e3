import { readFileSync } from 'fs';
import { join } from 'path';
import * as ts from 'typescript';
import { runCli } from './cli/helpers';
import { ROOT } from './helpers';
import { DdkConfig } from '../lib/config';

/*
 * The README's examples work when copied: every JSON block is JSON, every whole ddk.json in it is
 * valid, and every `ddk-pipelines` command it shows names a command and options the CLI has.
 */

interface Block { readonly lang: string; readonly text: string; readonly line: number }

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open || open[1] === '') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    out.push({ lang: open[1], text: body.join('\n'), line: start + 1 });
  }
  return out;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf-8');
const ALL = blocks(README);

/** One `ddk-pipelines …` command of a shell block: its (sub)command words and the options it uses. */
interface CliLine { readonly line: number; readonly words: string[]; readonly options: string[]; readonly text: string }

function cliLines(): CliLine[] {
  const out: CliLine[] = [];
  for (const b of ALL.filter(x => x.lang === 'sh' || x.lang === 'bash' || x.lang === 'yaml')) {
    b.text.split('\n').forEach((raw, i) => {
      const at = raw.indexOf('ddk-pipelines ');
      if (at < 0 || /npm (install|i) /.test(raw)) return;
      const text = raw.slice(at + 'ddk-pipelines '.length).replace(/\s#.*$/, '');
      const tokens = text.split(/\s+/).filter(Boolean);
      const words: string[] = [];
      for (const t of tokens) {
        if (!/^[a-z]+(\|[a-z]+)*$/.test(t)) break;
        words.push(t.split('|')[0]);
      }
      const options = [...text.matchAll(/(?:^|[\s[|])(--?[a-zA-Z][\w-]*)/g)].map(m => m[1]);
      out.push({ line: b.line + 1 + i, words, options, text: raw.trim() });
    });
  }
  return out;
}

describe('README examples', () => {
  test('every JSON block is JSON (no comments), and every whole ddk.json among them is valid', () => {
    const json = ALL.filter(b => b.lang === 'json' || b.lang === 'jsonc');
    expect(json.length).toBeGreaterThanOrEqual(2);
    for (const b of json) {
      expect({ line: b.line, lang: b.lang }).toEqual({ line: b.line, lang: 'json' });
      let doc: any;
      expect(() => { doc = JSON.parse(b.text); }).not.toThrow();
      if (doc && typeof doc === 'object' && 'environments' in doc) {
        expect({ line: b.line, problems: DdkConfig.check(b.text, `README.md:${b.line}`) }).toEqual({ line: b.line, problems: [] });
      }
    }
  });

  test('the first example is the repository\'s own ddk.json, so what it says of it holds', () => {
    const first = ALL.find(b => b.lang === 'json' && b.text.includes('"environments"'))!;
    expect(JSON.parse(first.text)).toEqual(JSON.parse(readFileSync(join(ROOT, 'ddk.json'), 'utf-8')));
  });

  test('every ddk-pipelines command shown names a command and options the CLI has', async () => {
    const lines = cliLines();
    expect(lines.length).toBeGreaterThanOrEqual(10);
    const helps = new Map<string, string>();
    for (const l of lines) {
      const key = l.words.join(' ');
      if (!helps.has(key)) {
        const r = await runCli([...l.words, '--help']);
        helps.set(key, `${r.code}\n${r.stdout}${r.stderr}`);
      }
      const help = helps.get(key)!;
      expect({ line: l.line, text: l.text, exit: help.split('\n')[0] }).toEqual({ line: l.line, text: l.text, exit: '0' });
      for (const option of l.options) {
        expect({ line: l.line, option, known: new RegExp(`(^|[\\s,])${option.replace(/[-]/g, '\\-')}([\\s,<[=]|$)`, 'm').test(help) }).toEqual({ line: l.line, option, known: true });
      }
    }
  });

  test('the default-app examples (bin/app.ts variants) type-check against this repository', () => {
    // GIVEN each TypeScript block written for bin/app.ts, as a virtual file in bin/
    const examples = ALL.filter(b => b.lang === 'ts' && b.text.includes("from './build-app'"));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const files = new Map(examples.map((b, i) => [join(ROOT, 'bin', `readme-example-${i}.ts`), b.text]));
    const options: ts.CompilerOptions = {
      strict: true,
      noUnusedLocals: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = f => files.get(f) ?? readFile(f);
    host.fileExists = f => files.has(f) || fileExists(f);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang, ...rest) => files.has(f) ? ts.createSourceFile(f, files.get(f)!, lang) : getSourceFile(f, lang, ...rest);
    // WHEN they are type-checked together with the library
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts.getPreEmitDiagnostics(program)
      .filter(d => d.file && files.has(d.file.fileName))
      .map(d => `README block ${examples[[...files.keys()].indexOf(d.file!.fileName)].line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    // THEN there is no error
    expect(problems).toEqual([]);
  });
});
