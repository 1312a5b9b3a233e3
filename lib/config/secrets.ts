/**
 * Literal secrets never belong in ddk.json: the file is committed. A key that looks
 * secret must hold a reference that is resolved at deploy time.
 */
const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|private[_-]?key|credential|auth)/i;

/** Whether an `env_vars` key looks like it names a secret. */
export function looksSecret(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Whether a value is a reference (`{"ssm": "/path"}` or `{"secretsManager": "arn:..."}`) rather than a literal. */
export function isReference(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'ssm' || keys[0] === 'secretsManager');
}
