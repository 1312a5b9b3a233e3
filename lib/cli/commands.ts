import { mkdirSync, writeFileSync } from 'fs';
import { dirname, extname, resolve } from 'path';
import { DdkConfig } from '../config';
import { bootstrapCommand, BootstrapCommandOptions } from './bootstrap';
import { deliveryGraph, toDot, toMermaid } from './graph';
import { CliError, Io, printJson } from './io';
import { planJson, renderPlan } from './plan-view';
import { checkFile, DEFAULT_FILE, invalidMessage, loadPlan } from './project';
import { renderSvg } from './svg';

/*
 * The commands that read only ddk.json: plan, graph, bootstrap (validate is in validate.ts).
 * None needs AWS credentials except bootstrap without --dry-run (it runs the CDK CLI).
 */

function printWarnings(io: Io, warnings: string[]): void {
  for (const w of warnings) io.err(`${io.errStyle.yellow('warning:')} ${w}\n`);
}

/** Options of `plan`. */
export interface PlanOptions {
  readonly json?: boolean;
}

/** `plan [file]`: the delivery plan as a tree, or JSON. */
export function planCommand(file: string | undefined, options: PlanOptions, io: Io): number {
  const { plan, warnings } = loadPlan(file ?? DEFAULT_FILE, io.cwd);
  printWarnings(io, warnings);
  if (options.json) printJson(io, planJson(plan));
  else io.out(renderPlan(plan, io.style));
  return 0;
}

/** Graph output formats. */
export const GRAPH_FORMATS = ['svg', 'mermaid', 'dot'] as const;

/** A graph output format. */
export type GraphFormat = typeof GRAPH_FORMATS[number];

/** Options of `graph`. */
export interface GraphOptions {
  /** `svg`, `mermaid` or `dot`; default: from the extension of `--output`, else svg. */
  readonly format?: string;
  /** File to write; default: stdout. */
  readonly output?: string;
}

/** The file extensions of each graph format (`-o` picks the format from them). */
export const GRAPH_EXTENSIONS: Readonly<Record<GraphFormat, readonly string[]>> = {
  svg: ['.svg'],
  mermaid: ['.mmd', '.mermaid'],
  dot: ['.dot', '.gv'],
};

/**
 * Extensions of picture formats the CLI does not write. Writing SVG into such a file would give
 * a file that image viewers reject, so they are refused whatever --format says.
 */
const UNSUPPORTED_PICTURES = ['.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp', '.tif', '.tiff', '.pdf', '.eps', '.ps'];

function supportedExtensions(): string {
  return GRAPH_FORMATS.map(f => `${GRAPH_EXTENSIONS[f].join(', ')} (${f})`).join('; ');
}

/**
 * The format asked for, or the one the output file's extension names, or svg (stdout, or a
 * file without extension). A picture format the CLI cannot write (`-o graph.png`), and without
 * --format an extension of no format, are usage errors naming the supported extensions.
 */
export function graphFormat(options: GraphOptions): GraphFormat {
  let explicit: GraphFormat | undefined;
  if (options.format !== undefined) {
    const f = options.format.toLowerCase();
    if (!(GRAPH_FORMATS as readonly string[]).includes(f)) {
      throw new CliError(`--format: "${options.format}" is not a graph format; expected one of ${GRAPH_FORMATS.join(', ')}`, 2);
    }
    explicit = f as GraphFormat;
  }
  const ext = options.output && options.output !== '-' ? extname(options.output).toLowerCase() : '';
  if (UNSUPPORTED_PICTURES.includes(ext)) {
    const base = options.output!.slice(0, options.output!.length - ext.length);
    throw new CliError(`-o ${options.output}: ddk-pipelines cannot write ${ext.slice(1).toUpperCase()} pictures; `
      + `supported extensions: ${supportedExtensions()}. Fix: write SVG with -o ${base}.svg (open it in a browser, or convert it with an SVG tool such as rsvg-convert or Inkscape)`, 2);
  }
  if (explicit !== undefined) return explicit;
  if (ext === '') return 'svg';
  const named = GRAPH_FORMATS.find(f => GRAPH_EXTENSIONS[f].includes(ext));
  if (named === undefined) {
    throw new CliError(`-o ${options.output}: the extension "${ext}" names no graph format; supported extensions: ${supportedExtensions()}. `
      + 'Fix: use one of these extensions, or pass --format svg|mermaid|dot', 2);
  }
  return named;
}

/** The picture of a ddk.json's delivery graph in a format. */
export async function drawGraph(file: string, format: GraphFormat, io: Io): Promise<string> {
  const { plan, warnings } = loadPlan(file, io.cwd);
  printWarnings(io, warnings);
  const graph = deliveryGraph(plan);
  if (format === 'mermaid') return toMermaid(graph);
  const dot = toDot(graph);
  if (format === 'dot') return dot;
  return io.progress('rendering SVG', () => renderSvg(dot));
}

/** `graph [file]`: the delivery graph as SVG, Mermaid or DOT, to stdout or `--output`. */
export async function graphCommand(file: string | undefined, options: GraphOptions, io: Io): Promise<number> {
  const format = graphFormat(options);
  const text = await drawGraph(file ?? DEFAULT_FILE, format, io);
  if (options.output === undefined || options.output === '-') {
    io.out(text);
    return 0;
  }
  const path = resolve(io.cwd, options.output);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e: any) {
    throw new CliError(`cannot write ${options.output}: ${e?.code ?? e?.message ?? e}`);
  }
  io.err(`wrote ${options.output} (${format}, ${Buffer.byteLength(text)} bytes)\n`);
  return 0;
}

/** Options of the `bootstrap` command. */
export interface BootstrapCliOptions extends BootstrapCommandOptions {
  /** The ddk.json to read; default ./ddk.json. */
  readonly config?: string;
}

/** `bootstrap`: derives the `cdk bootstrap` commands from ddk.json, prints or runs them. */
export async function bootstrapFromFile(options: BootstrapCliOptions, io: Io): Promise<number> {
  const checked = checkFile(options.config ?? DEFAULT_FILE, io.cwd);
  if (!checked.config) throw new CliError(invalidMessage(checked));
  printWarnings(io, checked.warnings);
  return bootstrapCommand(checked.config as DdkConfig, options, io);
}
