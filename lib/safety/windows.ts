import { Cron } from 'croner';

/*
 * Deployment windows: CodePipeline's DeploymentWindow rule (a BeforeEntry stage condition) lets
 * an execution into a stage only while its cron expression matches the current time, in its time
 * zone. Pure logic shared by validation (ddk.json), the plan views and `status`.
 *
 * The expression (CodePipeline's "DeploymentWindow" rule reference): six required fields and an
 * optional seventh, separated by white space:
 *   seconds (only "*") · minutes 0-59 · hours 0-23 · day-of-month 1-31 (, - * ? / L W) ·
 *   month 1-12 or JAN-DEC · day-of-week 1-7 or SUN-SAT (, - * ? / L #; 1 is Sunday) · year 1970-2199
 * The window is the set of minutes the expression matches: "* * 9-16 ? * MON-FRI" is open from
 * 09:00 to 16:59 on weekdays.
 */

/** One deployment window of a stage. */
export interface DeploymentWindow {
  /** The DeploymentWindow rule's `Cron` expression. */
  readonly cron: string;
  /** The rule's `TimeZone`: an IANA zone (`Europe/Berlin`), `UTC`, or `UTC+HH:MM` / `UTC-HH:MM`. */
  readonly timeZone: string;
}

/** What is wrong with a window's expression or time zone, as a ddk.json error's parts. */
export interface WindowProblem {
  /** `cron` or `timeZone`. */
  readonly key: 'cron' | 'timeZone';
  readonly problem: string;
  readonly expected: string;
  readonly fix: string;
}

/** The time zone CodePipeline assumes when a window names none. */
export const DEFAULT_TIME_ZONE = 'UTC';

const CRON_EXPECTED = 'six fields and an optional year: "seconds minutes hours day-of-month month day-of-week [year]", seconds "*", e.g. "* * 9-16 ? * MON-FRI" (weekdays 09:00–16:59)';
const ZONE_EXPECTED = 'an IANA time zone such as "Europe/Berlin", "UTC", or a fixed offset "UTC+02:00"';
const OFFSET = /^UTC([+-])(\d{2}):(\d{2})$/;
const FIELD_CHARS: Array<{ name: string; chars: RegExp }> = [
  { name: 'seconds', chars: /^\*$/ },
  { name: 'minutes', chars: /^[\d,\-*/]+$/ },
  { name: 'hours', chars: /^[\d,\-*/]+$/ },
  { name: 'day-of-month', chars: /^[\dLW,\-*?/]+$/ },
  { name: 'month', chars: /^[\dA-Z,\-*/]+$/ },
  { name: 'day-of-week', chars: /^[\dA-Z,\-*?/L#]+$/ },
  { name: 'year', chars: /^[\d,\-*/]+$/ },
];

/** The problems of one window; empty when CodePipeline and `nextOpening` accept it. */
export function windowProblems(cron: string, timeZone: string = DEFAULT_TIME_ZONE): WindowProblem[] {
  const problems: WindowProblem[] = [];
  const zone = zoneProblem(timeZone);
  if (zone) problems.push(zone);
  const fields = cron.trim().split(/\s+/);
  const cronProblem = (problem: string, fix: string) => problems.push({ key: 'cron', problem, expected: CRON_EXPECTED, fix });
  if (fields.length < 6 || fields.length > 7) {
    cronProblem(`has ${fields.length} field${fields.length === 1 ? '' : 's'}`, fields.length === 5
      ? 'put "*" for the seconds in front (CodePipeline\'s windows have a seconds field), and "?" for day-of-month or day-of-week'
      : 'write six fields, or seven with a year');
    return problems;
  }
  const upper = fields.map(f => f.toUpperCase());
  for (let i = 0; i < upper.length; i++) {
    if (!FIELD_CHARS[i].chars.test(upper[i])) {
      cronProblem(`has "${fields[i]}" as its ${FIELD_CHARS[i].name} field, which CodePipeline does not accept there`,
        i === 0 ? 'write "*" for the seconds: a window is made of whole minutes' : `use the values and special characters CodePipeline lists for ${FIELD_CHARS[i].name}`);
      return problems;
    }
  }
  if (upper[3] !== '?' && upper[5] !== '?') {
    cronProblem('sets both day-of-month and day-of-week', 'write "?" in one of them, e.g. "* * 9-16 ? * MON-FRI"');
    return problems;
  }
  if (upper[3] === '?' && upper[5] === '?') {
    cronProblem('has "?" in both day-of-month and day-of-week', 'write "*" in one of them');
    return problems;
  }
  const back = LAST_DAY_OFFSET.exec(upper[3]);
  if (back && (Number(back[1]) < 1 || Number(back[1]) > 30)) {
    cronProblem(`has "${fields[3]}" as its day-of-month, an offset from the month's last day outside 1 to 30`, 'write "L-1" to "L-30", or "L" for the last day');
    return problems;
  }
  if (fields.length === 7) {
    const years = fields[6].match(/\d+/g) ?? [];
    const bad = years.map(Number).find(y => y < 1970 || y > 2199);
    if (bad !== undefined) {
      cronProblem(`names the year ${bad}`, 'write years from 1970 to 2199, or leave the year out');
      return problems;
    }
  }
  try {
    schedule({ cron, timeZone: zone ? DEFAULT_TIME_ZONE : timeZone });
  } catch (e) {
    cronProblem(`is not a cron expression: ${(e as Error).message.replace(/^CronPattern: /, '')}`, 'correct the field the message names');
  }
  return problems;
}

function zoneProblem(timeZone: string): WindowProblem | undefined {
  const offset = OFFSET.exec(timeZone);
  if (offset) {
    const [h, m] = [Number(offset[2]), Number(offset[3])];
    if (h > 14 || m > 59 || (h === 14 && m > 0)) {
      return { key: 'timeZone', problem: `is an offset of ${h}:${offset[3]}, beyond ±14:00`, expected: ZONE_EXPECTED, fix: 'write an offset from UTC-12:00 to UTC+14:00' };
    }
    return undefined;
  }
  if (timeZone === 'UTC' || isIanaZone(timeZone)) return undefined;
  const abbreviation = /^[A-Z]{2,5}$/.test(timeZone);
  return {
    key: 'timeZone',
    problem: abbreviation
      ? 'is an abbreviation, which can mean several zones (CST is used for three) and does not say whether daylight saving applies'
      : 'is not a time zone this machine knows',
    expected: ZONE_EXPECTED,
    fix: abbreviation ? 'write the zone\'s Region/City name, e.g. "America/Chicago"' : 'write the Region/City name from the IANA time zone database, e.g. "Europe/Berlin"',
  };
}

function isIanaZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)+$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The highest value of each field: Quartz's "start/step" (5/15 = 5, 20, 35, 50) is written start-max/step for croner. */
const FIELD_MAX = [59, 59, 23, 31, 12, 7, 2199];

/** What nextOpening and windowsOpen need of one window's schedule. */
interface Schedule {
  match(at: Date): boolean;
  /** The first matching minute after `after`, or null when none comes. */
  nextRun(after: Date): Date | null;
}

/** "L-3" in day-of-month: the third-to-last day (CodePipeline's reference; croner has no such offset). */
const LAST_DAY_OFFSET = /^L-(\d{1,2})$/i;

/**
 * A schedule in CodePipeline's dialect: croner with day-of-week 1-7 from Sunday, start/step
 * written as a range, the zone or fixed offset; an "L-n" day-of-month is checked here on top of
 * croner's schedule with any day.
 */
function schedule(w: DeploymentWindow): Schedule {
  const offset = OFFSET.exec(w.timeZone);
  const fields = w.cron.trim().split(/\s+/)
    .map((field, i) => field.split(',').map(part => part.replace(/^(\d+)\/(\d+)$/, `$1-${FIELD_MAX[i]}/$2`)).join(','));
  const lastDayOffset = LAST_DAY_OFFSET.exec(fields[3]);
  if (lastDayOffset) fields[3] = '*';
  const offsetMinutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : undefined;
  const cron = new Cron(fields.join(' '), {
    paused: true,
    alternativeWeekdays: true,
    ...(offsetMinutes !== undefined ? { utcOffset: offsetMinutes } : { timezone: w.timeZone }),
  });
  if (!lastDayOffset) return cron;
  const back = Number(lastDayOffset[1]);
  const dayOk = (at: Date) => {
    const { year, month, day } = zoneDate(at, w.timeZone, offsetMinutes);
    return day === new Date(Date.UTC(year, month, 0)).getUTCDate() - back;
  };
  return {
    match: at => cron.match(at) && dayOk(at),
    nextRun: after => {
      let t = cron.nextRun(after);
      // at most a few steps per day: from a minute on a wrong day, on to the next day's first minute
      for (let steps = 0; t && !dayOk(t) && steps < 2000; steps++) {
        const { hour, minute } = zoneDate(t, w.timeZone, offsetMinutes);
        t = cron.nextRun(new Date(t.getTime() + ((23 - hour) * 60 + (59 - minute)) * MINUTE));
      }
      return t && dayOk(t) ? t : null;
    },
  };
}

/** The calendar fields of `at` in a time zone (or at a fixed offset from UTC, in minutes). */
/** One formatter per zone: `zoneDate` runs for every minute an "L-n" window steps over. */
const ZONE_FORMATS = new Map<string, Intl.DateTimeFormat>();

interface ZoneDate { readonly year: number; readonly month: number; readonly day: number; readonly hour: number; readonly minute: number }

function zoneDate(at: Date, timeZone: string, offsetMinutes: number | undefined): ZoneDate {
  if (offsetMinutes !== undefined) {
    const d = new Date(at.getTime() + offsetMinutes * MINUTE);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
  }
  let format = ZONE_FORMATS.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    ZONE_FORMATS.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const get = (type: string) => Number(parts.find(p => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

const MINUTE = 60_000;

/** Whether every window is open at `at` (CodePipeline's rules of one condition must all pass). */
export function windowsOpen(windows: DeploymentWindow[], at: Date): boolean {
  const minute = new Date(Math.floor(at.getTime() / MINUTE) * MINUTE);
  return windows.every(w => schedule(w).match(minute));
}

/**
 * The first minute from `from` on at which every window is open (`from` itself, rounded down to
 * its minute, when they are open now), or undefined when they do not open together within
 * `horizonDays`.
 */
export function nextOpening(windows: DeploymentWindow[], from: Date, horizonDays: number = 400): Date | undefined {
  if (windows.length === 0) return from;
  const schedules = windows.map(schedule);
  const end = from.getTime() + horizonDays * 86_400_000;
  let t = Math.floor(from.getTime() / MINUTE) * MINUTE;
  while (t <= end) {
    const at = new Date(t);
    if (schedules.every(s => s.match(at))) return at;
    // jump to the latest of the windows' next openings: no earlier minute can be open in all
    const next = schedules.map(s => (s.match(at) ? t : s.nextRun(new Date(t - 1))?.getTime() ?? Infinity));
    const jump = Math.max(...next);
    if (!Number.isFinite(jump)) return undefined;
    t = jump > t ? jump : t + MINUTE;
  }
  return undefined;
}

/**
 * The first minute from `from` on at which one of the windows is closed (when an execution that
 * entered now would no longer be let in), or undefined when they stay open past `horizonDays`.
 */
export function nextClosing(windows: DeploymentWindow[], from: Date, horizonDays: number = 7): Date | undefined {
  const schedules = windows.map(schedule);
  const end = from.getTime() + horizonDays * 86_400_000;
  for (let t = Math.floor(from.getTime() / MINUTE) * MINUTE; t <= end; t += MINUTE) {
    const at = new Date(t);
    if (!schedules.every(s => s.match(at))) return at;
  }
  return undefined;
}

/** `"* * 9-16 ? * MON-FRI" (Europe/Berlin)`: how plans, drawings and `status` name a window. */
export function describeWindow(w: DeploymentWindow): string {
  return `"${w.cron}" (${w.timeZone})`;
}
