import { smtpHint } from '../../src/admin/outbox.service';

const smtp = { host: 'smtp.example.com', port: 587 };

describe('smtpHint: what to check after a failed test email', () => {
  test('when the port is closed, then it names the address nodemailer tried', () => {
    const err = { code: 'ESOCKET', originalCode: 'ECONNREFUSED', address: '10.0.0.5', port: 2525 };
    expect(smtpHint(err, smtp)).toEqual({
      key: 'outbox.test.hints.refused',
      params: { host: '10.0.0.5', port: 2525 },
    });
  });

  test('when the login is refused, then it points at the credentials', () => {
    expect(smtpHint({ code: 'EAUTH', responseCode: 535 }, smtp)?.key).toBe(
      'outbox.test.hints.auth',
    );
  });

  test('when the host name does not resolve, then it points at SMTP_SERVER', () => {
    expect(smtpHint({ code: 'EDNS', originalCode: 'ENOTFOUND' }, smtp)).toEqual({
      key: 'outbox.test.hints.dns',
      params: { host: 'smtp.example.com' },
    });
  });

  test('when TLS or the connection fails, then it points at USE_TLS, VERIFY_SSL and the port', () => {
    for (const err of [
      { code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      { code: 'ESOCKET', originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER' },
      { code: 'ETIMEDOUT' },
      { code: 'ETLS' },
    ]) {
      expect(smtpHint(err, smtp)).toEqual({
        key: 'outbox.test.hints.transport',
        params: { port: 587 },
      });
    }
  });

  test('when the server answers 5xx or 4xx, then it says refused for good or try later', () => {
    expect(smtpHint({ code: 'EENVELOPE', responseCode: 553 }, smtp)?.key).toBe(
      'outbox.test.hints.rejected',
    );
    expect(smtpHint({ code: 'EMESSAGE', responseCode: 451 }, smtp)?.key).toBe(
      'outbox.test.hints.temporary',
    );
  });

  test('when the failure is unknown, then there is no hint rather than a wrong one', () => {
    expect(smtpHint(new Error('boom'), smtp)).toBeNull();
    expect(smtpHint(null, smtp)).toBeNull();
  });
});
