/**
 * Literal secrets never belong in ddk.json: the file is committed. A key that looks
 * secret must hold a reference that is resolved at deploy time.
 */
const SECRET_WORDS = new Set(['pass', 'password', 'passwd', 'passphrase', 'pwd', 'secret', 'secrets', 'token', 'tokens', 'apikey', 'credential', 'credentials', 'auth', 'privatekey', 'signingkey', 'accesskey']);

/**
 * Whether a key looks like it names a secret: one of its words (split at _, -, . and
 * camelCase) is a secret word, or two adjacent words form one (`API_KEY`, `privateKey`).
 * `BYPASS_CACHE` and `AUTHOR_NAME` do not.
 */
export function looksSecret(key: string): boolean {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(w => w !== '');
  return words.some((w, i) => SECRET_WORDS.has(w) || (i > 0 && SECRET_WORDS.has(words[i - 1] + w)) || (w === 'key' && words[i - 1] === 'api'));
}

/** Whether a value is a reference (`{"ssm": "/path"}` or `{"secretsManager": "arn:..."}`) rather than a literal. */
export function isReference(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'ssm' || keys[0] === 'secretsManager');
}
