/*
 * Terminal input/output of the ddk-pipelines CLI: colour (only on a TTY, never with NO_COLOR),
 * a progress spinner on stderr (only on a TTY), and the error type for expected failures.
 * Nothing here imports aws-cdk-lib or the AWS SDK.
 */

/** An expected failure: printed as `error: <message>` with no stack trace, and the exit code. */
export class CliError extends Error {
  /** Marker that survives module duplication (instanceof does not). */
  public static isCliError(x: unknown): x is CliError {
    return typeof x === 'object' && x !== null && (x as { name?: unknown }).name === 'CliError';
  }

  /** Process exit code: 1 for a failure, 2 for a usage error. */
  public readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Colour functions; identity functions when colour is off. */
export interface Style {
  readonly enabled: boolean;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

/** A style with colour on or off. */
export function style(enabled: boolean): Style {
  const id = (s: string) => s;
  return {
    enabled,
    bold: enabled ? sgr(1, 22) : id,
    dim: enabled ? sgr(2, 22) : id,
    red: enabled ? sgr(31, 39) : id,
    green: enabled ? sgr(32, 39) : id,
    yellow: enabled ? sgr(33, 39) : id,
    cyan: enabled ? sgr(36, 39) : id,
  };
}

/** The part of a stream the CLI needs. */
export interface OutputStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Whether to colour a stream: only a TTY, never with NO_COLOR (https://no-color.org) or
 * TERM=dumb; FORCE_COLOR (not "0") forces it on.
 */
export function colourEnabled(stream: OutputStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** Everything a command reads from and writes to its surroundings. */
export interface Io {
  /** Writes to stdout. */
  readonly out: (text: string) => void;
  /** Writes to stderr. */
  readonly err: (text: string) => void;
  /** Colours for stdout. */
  readonly style: Style;
  /** Colours for stderr. */
  readonly errStyle: Style;
  /** Environment variables. */
  readonly env: NodeJS.ProcessEnv;
  /** Working directory (ddk.json is looked up here). */
  readonly cwd: string;
  /** Shows `label` with a spinner on stderr (TTY only) while `work` runs. */
  progress<T>(label: string, work: () => Promise<T>): Promise<T>;
}

/** Options of `processIo`. */
export interface ProcessIoOptions {
  readonly stdout?: OutputStream;
  readonly stderr?: OutputStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** The Io of the running process. */
export function processIo(options: ProcessIoOptions = {}): Io {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const errStyle = style(colourEnabled(stderr, env));
  return {
    out: text => { stdout.write(text); },
    err: text => { stderr.write(text); },
    style: style(colourEnabled(stdout, env)),
    errStyle,
    env,
    cwd: options.cwd ?? process.cwd(),
    progress: (label, work) => withSpinner(stderr, env, errStyle, label, work),
  };
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Runs `work` while a spinner and `label` turn on `stream`; on a non-TTY (a pipe, CI) or
 * with CI set, nothing is drawn, so logs and captured output stay clean.
 */
export async function withSpinner<T>(stream: OutputStream, env: NodeJS.ProcessEnv, s: Style, label: string, work: () => Promise<T>): Promise<T> {
  if (stream.isTTY !== true || env.CI === 'true' || env.TERM === 'dumb') return work();
  let i = 0;
  const draw = () => { stream.write(`\r${s.cyan(FRAMES[i++ % FRAMES.length])} ${label}\u001b[K`); };
  draw();
  const timer = setInterval(draw, 80);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    stream.write('\r\u001b[K');
  }
}

/** The part of a process stream `quietOnClosedPipe` needs. */
export interface ErrorEmitter {
  on(event: 'error', listener: (e: NodeJS.ErrnoException) => void): unknown;
}

/**
 * Makes a closed reader harmless: when the program reading our output goes away
 * (`ddk-pipelines plan | head -1`), writing to the pipe fails with EPIPE, which Node.js reports as
 * an unhandled 'error' event with a stack trace. With this listener the rest of the output is
 * dropped and the command finishes with its own exit code. Any other write error is one line on
 * `report` and exit code 1.
 */
export function quietOnClosedPipe(stream: ErrorEmitter, report: (line: string) => void, exit: (code: number) => void): void {
  let closed = false;
  stream.on('error', e => {
    if (closed) return;
    if (e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_DESTROYED') {
      closed = true;
      return;
    }
    closed = true;
    report(`error: cannot write the output: ${e?.code ?? ''} ${e?.message ?? e}\n`.replace(/ {2,}/g, ' '));
    exit(1);
  });
}

/** Prints a value as indented JSON with a final newline. */
export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Pads `s` to `width` visible characters (ANSI sequences do not count). */
export function pad(s: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const visible = s.replace(/\u001b\[[0-9;]*m/g, '').length;
  return visible >= width ? s : s + ' '.repeat(width - visible);
}

/** Renders rows as aligned columns (two spaces apart; the last column is not padded). */
export function columns(rows: string[][]): string[] {
  // eslint-disable-next-line no-control-regex
  const width = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, width(cell)); });
  return rows.map(row => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]))).join('  ').trimEnd());
}
