import * as fc from 'fast-check';
import { describeWindow, nextClosing, nextOpening, windowProblems, windowsOpen } from '../../lib/safety/windows';

/*
 * Deployment windows as CodePipeline's DeploymentWindow rule reads them: Quartz-style cron with a
 * seconds field, day-of-week 1-7 from Sunday, a time zone; several windows of a stage must all be open.
 */

const WEEKDAYS_BERLIN = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };

describe('windowsOpen', () => {
  test('follows the zone, daylight saving included', () => {
    // 08:30 UTC is 09:30 in Berlin in winter (UTC+1) and 10:30 in summer (UTC+2)
    expect(windowsOpen([WEEKDAYS_BERLIN], new Date('2026-12-07T08:30:00Z'))).toBe(true);
    expect(windowsOpen([WEEKDAYS_BERLIN], new Date('2026-12-07T07:30:00Z'))).toBe(false);
    expect(windowsOpen([WEEKDAYS_BERLIN], new Date('2026-07-06T07:30:00Z'))).toBe(true);
    expect(windowsOpen([WEEKDAYS_BERLIN], new Date('2026-07-06T06:30:00Z'))).toBe(false);
  });

  test('reads day-of-week numbers from Sunday (1) as CodePipeline does', () => {
    // 2026-12-07 is a Monday: day 2
    expect(windowsOpen([{ cron: '* * * ? * 2', timeZone: 'UTC' }], new Date('2026-12-07T12:00:00Z'))).toBe(true);
    expect(windowsOpen([{ cron: '* * * ? * 1', timeZone: 'UTC' }], new Date('2026-12-07T12:00:00Z'))).toBe(false);
  });

  test('fixed offsets shift the window', () => {
    expect(windowsOpen([{ cron: '* * 9 ? * *', timeZone: 'UTC+02:00' }], new Date('2026-12-07T07:15:00Z'))).toBe(true);
    expect(windowsOpen([{ cron: '* * 9 ? * *', timeZone: 'UTC-05:30' }], new Date('2026-12-07T14:45:00Z'))).toBe(true);
  });

  test('several windows must all be open (the rules of one condition are ANDed)', () => {
    const both = [WEEKDAYS_BERLIN, { cron: '* * 9-16 ? * MON-FRI', timeZone: 'America/New_York' }];
    expect(windowsOpen(both, new Date('2026-12-07T14:30:00Z'))).toBe(true); // 15:30 Berlin, 09:30 New York
    expect(windowsOpen(both, new Date('2026-12-07T10:30:00Z'))).toBe(false); // 05:30 in New York
  });
});

describe('nextOpening', () => {
  test('is now (to the minute) inside the window', () => {
    expect(nextOpening([WEEKDAYS_BERLIN], new Date('2026-12-07T10:00:42Z'))).toEqual(new Date('2026-12-07T10:00:00Z'));
  });

  test('over a weekend is Monday 09:00 in the window\'s zone', () => {
    expect(nextOpening([WEEKDAYS_BERLIN], new Date('2026-12-05T12:00:00Z'))).toEqual(new Date('2026-12-07T08:00:00Z'));
  });

  test('of two windows is the first minute both are open', () => {
    const both = [WEEKDAYS_BERLIN, { cron: '* * 9-16 ? * MON-FRI', timeZone: 'America/New_York' }];
    expect(nextOpening(both, new Date('2026-12-05T12:00:00Z'))).toEqual(new Date('2026-12-07T14:00:00Z'));
  });

  test('is undefined when the windows never overlap', () => {
    expect(nextOpening([{ cron: '* * 9 ? * MON', timeZone: 'UTC' }, { cron: '* * 10 ? * MON', timeZone: 'UTC' }], new Date('2026-12-05T12:00:00Z'))).toBeUndefined();
  });

  test('honours a year field', () => {
    expect(nextOpening([{ cron: '* * 9 1 JAN ? 2029', timeZone: 'UTC' }], new Date('2026-12-05T12:00:00Z'))).toBeUndefined();
    expect(nextOpening([{ cron: '* * 9 1 JAN ? 2027', timeZone: 'UTC' }], new Date('2026-12-05T12:00:00Z'))).toEqual(new Date('2027-01-01T09:00:00Z'));
  });

  test('property: the opening is open and no earlier minute after `from` is', () => {
    const hours = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 23 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
    fc.assert(fc.property(hours, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 14 * 24 * 60 }), ([lo, hi], dow, offset) => {
      const w = [{ cron: `* * ${lo}-${hi} ? * ${dow}`, timeZone: 'Europe/Berlin' }];
      const from = new Date(Date.UTC(2026, 11, 1) + offset * 60_000);
      const open = nextOpening(w, from)!;
      expect(windowsOpen(w, open)).toBe(true);
      for (let t = Math.floor(from.getTime() / 60_000) * 60_000; t < open.getTime(); t += 15 * 60_000) {
        expect(windowsOpen(w, new Date(t))).toBe(false);
      }
    }), { seed: 1, numRuns: 40 });
  });
});

test('nextClosing is the first minute a window is shut', () => {
  expect(nextClosing([WEEKDAYS_BERLIN], new Date('2026-12-07T10:00:00Z'))).toEqual(new Date('2026-12-07T16:00:00Z'));
  expect(nextClosing([{ cron: '* * * ? * *', timeZone: 'UTC' }], new Date('2026-12-07T10:00:00Z'))).toBeUndefined();
});

test('the special characters CodePipeline lists are accepted: L, W, #, lists, steps', () => {
  for (const cron of ['* * 9 L * ?', '* * 9 15W * ?', '* * 9 ? * 6#3', '* * 9 ? * 6L', '* 0/15 9-17 ? JAN-MAR,OCT MON-FRI', '* * 9 ? * MON-FRI 2026-2030']) {
    expect(windowProblems(cron, 'UTC')).toEqual([]);
  }
});

test('describeWindow names the expression and the zone', () => {
  expect(describeWindow(WEEKDAYS_BERLIN)).toBe('"* * 9-16 ? * MON-FRI" (Europe/Berlin)');
});

test('"start/step" counts from start as Quartz does (CodePipeline\'s example: 5/15 is 5, 20, 35, 50)', () => {
  const w = [{ cron: '* 5/15 * ? * *', timeZone: 'UTC' }];
  expect([5, 20, 35, 50].every(m => windowsOpen(w, new Date(Date.UTC(2026, 11, 7, 10, m))))).toBe(true);
  expect([0, 6, 15, 30, 45].some(m => windowsOpen(w, new Date(Date.UTC(2026, 11, 7, 10, m))))).toBe(false);
});

describe('day-of-month offsets from the month\'s end ("L-3", CodePipeline\'s reference) and the last weekday ("LW")', () => {
  test('L-3 is the third-to-last day, in the window\'s zone', () => {
    const w = [{ cron: '* * 9 L-3 * ?', timeZone: 'Europe/Berlin' }];
    expect(windowProblems(w[0].cron, w[0].timeZone)).toEqual([]);
    expect(nextOpening(w, new Date('2026-12-05T12:00:00Z'))).toEqual(new Date('2026-12-28T08:00:00Z'));
    expect(windowsOpen(w, new Date('2026-12-28T08:30:00Z'))).toBe(true);
    expect(windowsOpen(w, new Date('2026-12-27T08:30:00Z'))).toBe(false);
    // February 2027 has 28 days: its L-3 is the 25th
    expect(nextOpening(w, new Date('2027-02-01T00:00:00Z'))).toEqual(new Date('2027-02-25T08:00:00Z'));
  });

  test('an offset no month has never opens; beyond 30 it is refused', () => {
    expect(nextOpening([{ cron: '* * 9 L-30 FEB ?', timeZone: 'UTC' }], new Date('2026-12-05T12:00:00Z'))).toBeUndefined();
    expect(windowProblems('* * 9 L-31 * ?', 'UTC').map(p => p.problem)).toEqual(['has "L-31" as its day-of-month, an offset from the month\'s last day outside 1 to 30']);
  });

  test('LW is the last weekday of the month', () => {
    // 2027-01-31 is a Sunday: the last weekday is Friday the 29th
    expect(nextOpening([{ cron: '* * 9 LW * ?', timeZone: 'UTC' }], new Date('2027-01-02T00:00:00Z'))).toEqual(new Date('2027-01-29T09:00:00Z'));
  });
});
