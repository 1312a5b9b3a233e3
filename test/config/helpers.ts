import { ConfigIssue, DdkConfig } from '../../lib/config';

/** The file name used in messages by the helpers below. */
export const FILE = 'ddk.json';

/** A valid minimal environment map: the CICD account and one target. */
export function baseEnvironments(): { [id: string]: any } {
  return {
    cicd: { account: '111111111111', region: 'eu-west-1' },
    dev: { account: '222222222222', region: 'eu-west-1' },
  };
}

/** A valid minimal document; `extra` is merged at the top level. */
export function baseDoc(extra: { [key: string]: any } = {}): { [key: string]: any } {
  return { environments: baseEnvironments(), ...extra };
}

/** A valid document whose `dev` environment is `{...dev, ...devExtra}`. */
export function docWithDev(devExtra: { [key: string]: any }): { [key: string]: any } {
  const environments = baseEnvironments();
  environments.dev = { ...environments.dev, ...devExtra };
  return { environments };
}

/** A valid document with the given `pipeline` section. */
export function docWithPipeline(pipeline: unknown): { [key: string]: any } {
  return baseDoc({ pipeline });
}

/** Every issue of a document, without throwing. */
export function issuesOf(doc: unknown, file: string = FILE): ConfigIssue[] {
  return DdkConfig.check(JSON.stringify(doc), file);
}

/** The single issue of a document; fails the test when there is not exactly one. */
export function onlyIssue(doc: unknown): ConfigIssue {
  const issues = issuesOf(doc);
  expect(issues.map(i => DdkConfig.formatIssue(i))).toHaveLength(1);
  return issues[0];
}

/** The error thrown by `fn`; fails the test when nothing is thrown. */
export function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw, but it returned normally');
}
