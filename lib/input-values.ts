/*
 * Reading untyped input (events, job parameters, request bodies, settings variables) in the
 * handlers' pure modules: no aws-cdk-lib and no SDK import.
 */

/** A JSON object. */
export type Obj = Record<string, unknown>;

/** Whether `v` is a JSON object (not null, not an array). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as JSON, at most 80 characters, for messages. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** `v` when it is a string with more than blanks, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/**
 * The JSON value of a settings variable a construct writes; a missing or malformed one is a
 * deployment defect, reported with the variable, what it should hold and `fix`.
 *
 * @param what what the variable holds, e.g. "review settings"
 */
export function jsonVariable(env: NodeJS.ProcessEnv, name: string, what: string, fix: string): unknown {
  const raw = env[name];
  if (raw === undefined || raw === '') throw new Error(`environment variable ${name} is not set; expected the JSON ${what}. ${fix}`);
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new Error(`environment variable ${name} is not JSON (${(e as Error).message}); expected the ${what}. ${fix}`);
  }
}
