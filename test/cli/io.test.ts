import { EventEmitter } from 'events';
import { colourEnabled, columns, quietOnClosedPipe, withSpinner, style } from '../../lib/cli/io';

describe('colour', () => {
  const tty = { isTTY: true, write: () => true };
  const pipe = { isTTY: false, write: () => true };

  test('only on a TTY; NO_COLOR and TERM=dumb turn it off; FORCE_COLOR turns it on', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true); // an empty NO_COLOR does not count (no-color.org)
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
  });

  test('columns align on visible width, ignoring colour codes', () => {
    const s = style(true);
    expect(columns([[s.red('ab'), 'x'], ['abcd', 'y']]).map(l => l.replace(/\u001b\[\d+m/g, ''))).toEqual(['ab    x', 'abcd  y']);
  });
});

describe('progress spinner', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('on a TTY: frames with the label while waiting, then the line is cleared', async () => {
    const written: string[] = [];
    const stream = { isTTY: true, write: (t: string) => written.push(t) };
    let finish!: (v: string) => void;
    const work = new Promise<string>(resolve => { finish = resolve; });
    const result = withSpinner(stream, {}, style(false), 'reading the pipeline state', () => work);
    jest.advanceTimersByTime(250);
    finish('done');
    await expect(result).resolves.toBe('done');
    expect(written.length).toBeGreaterThanOrEqual(4); // first frame + 3 ticks + clear
    expect(written[0]).toMatch(/^\r. reading the pipeline state\u001b\[K$/);
    expect(new Set(written.slice(0, -1).map(w => w[1])).size).toBeGreaterThan(1); // it turns
    expect(written[written.length - 1]).toBe('\r\u001b[K');
    const count = written.length;
    jest.advanceTimersByTime(1000);
    expect(written.length).toBe(count); // stopped
  });

  test('the line is cleared when the work fails too', async () => {
    const written: string[] = [];
    await expect(withSpinner({ isTTY: true, write: (t: string) => written.push(t) }, {}, style(false), 'x', () => Promise.reject(new Error('boom'))))
      .rejects.toThrow('boom');
    expect(written[written.length - 1]).toBe('\r\u001b[K');
  });

  test('nothing is drawn on a pipe or in CI', async () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (t: string) => written.push(t) };
    await withSpinner(stream, {}, style(false), 'x', async () => 1);
    await withSpinner({ ...stream, isTTY: true }, { CI: 'true' }, style(false), 'x', async () => 1);
    expect(written).toEqual([]);
  });
});

describe('quietOnClosedPipe', () => {
  const errno = (code: string) => Object.assign(new Error(`write ${code}`), { code });

  test('EPIPE (the reader left) is swallowed: nothing reported, no exit, later errors too', () => {
    const stream = new EventEmitter();
    const report = jest.fn();
    const exit = jest.fn();
    quietOnClosedPipe(stream, report, exit);
    stream.emit('error', errno('EPIPE'));
    stream.emit('error', errno('ERR_STREAM_DESTROYED'));
    expect(report).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
  });

  test('any other write error: one line, exit 1', () => {
    const stream = new EventEmitter();
    const report = jest.fn();
    const exit = jest.fn();
    quietOnClosedPipe(stream, report, exit);
    stream.emit('error', errno('EIO'));
    expect(report).toHaveBeenCalledWith('error: cannot write the output: EIO write EIO\n');
    expect(exit).toHaveBeenCalledWith(1);
  });
});
