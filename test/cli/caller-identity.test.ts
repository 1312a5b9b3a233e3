import { FAKE_CREDENTIALS, startServer, verifySigV4 } from './helpers';
import { callerAccount, callerIdentity, stsEndpoint } from '../../lib/cli/caller-identity';

const credentials = async () => FAKE_CREDENTIALS;

describe('STS GetCallerIdentity: which account a set of credentials is for', () => {
  test('the endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the region\'s (with the China partition\'s domain)', () => {
    expect(stsEndpoint('eu-west-1', {}).href).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(stsEndpoint('cn-north-1', {}).href).toBe('https://sts.cn-north-1.amazonaws.com.cn/');
    expect(stsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:2' }).port).toBe('2');
    expect(stsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }).port).toBe('1');
    expect(() => stsEndpoint('eu-west-1', { AWS_ENDPOINT_URL_STS: 'not a url' })).toThrow('AWS_ENDPOINT_URL_STS: "not a url" is not a URL');
  });

  test('a signed POST of Action=GetCallerIdentity (the SDK\'s STS client); the account from the XML answer', async () => {
    const server = await startServer(() => [200, '<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>', 'text/xml']);
    try {
      expect(await callerAccount({ region: 'us-east-1', env: { AWS_ENDPOINT_URL_STS: server.url }, credentials })).toBe('123456789012');
      const [req] = server.requests;
      expect(req).toMatchObject({ method: 'POST', body: 'Action=GetCallerIdentity&Version=2011-06-15' });
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ region: 'us-east-1', service: 'sts', accessKeyId: FAKE_CREDENTIALS.accessKeyId });
    } finally {
      await server.close();
    }
  });

  test('callerIdentity: the account and the principal\'s ARN; an answer without an ARN is an error (callerAccount does not need it)', async () => {
    const arn = 'arn:aws:sts::123456789012:assumed-role/ReleaseManager/alice';
    let answer = `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AROAEXAMPLE:alice</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`;
    const server = await startServer(() => [200, answer, 'text/xml']);
    try {
      const env = { AWS_ENDPOINT_URL_STS: server.url };
      expect(await callerIdentity({ region: 'eu-west-1', env, credentials })).toEqual({ account: '123456789012', arn });
      answer = '<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>';
      await expect(callerIdentity({ region: 'eu-west-1', env, credentials })).rejects.toThrow(/^STS GetCallerIdentity at http:\/\/127\.0\.0\.1:\d+ answered without an ARN: \{"Account":"123456789012"\}$/);
      expect(await callerAccount({ region: 'eu-west-1', env, credentials })).toBe('123456789012');
    } finally {
      await server.close();
    }
  });

  test('an STS error, missing credentials and an unreachable endpoint are one clear line each', async () => {
    const server = await startServer(() => [403, '<ErrorResponse><Error><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error></ErrorResponse>', 'text/xml']);
    try {
      await expect(callerAccount({ region: 'eu-west-1', profile: 'dev-admin', env: { AWS_ENDPOINT_URL_STS: server.url }, credentials }))
        .rejects.toThrow('cannot tell which account profile "dev-admin" belongs to: STS GetCallerIdentity answered ExpiredToken: The security token included in the request is expired. '
          + 'Fix: renew the credentials (e.g. `aws sso login --profile dev-admin`)');
    } finally {
      await server.close();
    }
    const none = async () => { throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }); };
    await expect(callerAccount({ region: 'eu-west-1', env: { AWS_ENDPOINT_URL_STS: server.url }, credentials: none }))
      .rejects.toThrow('cannot use your current credentials: Could not load credentials from any providers. Fix: set AWS_PROFILE');
    await expect(callerAccount({ region: 'eu-west-1', env: { AWS_ENDPOINT_URL_STS: server.url }, credentials, timeoutMs: 2000 }))
      .rejects.toThrow(/^STS at http:\/\/127\.0\.0\.1:\d+ cannot be reached: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });
});
