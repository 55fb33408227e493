import { describe, expect, inject, it } from 'vitest';
import { describeConnectionProblem, hidePassword } from '../../src/store/connection-problem.js';
import { assertDatabaseReachable, DatabaseUnreachableError } from '../../src/store/database.js';
import { withDatabase } from '../support/pg-urls.js';

describe('hidePassword', () => {
  it('shows the URL with the password as ***', () => {
    expect(hidePassword('postgres://conductor:s3cr%40t@db.internal:5432/conductor')).toBe('postgres://conductor:***@db.internal:5432/conductor');
    expect(hidePassword('postgresql://u@h/db?password=p&sslmode=require')).toBe('postgresql://u@h/db?password=***&sslmode=require');
    expect(hidePassword('postgres://h/db')).toBe('postgres://h/db');
    expect(hidePassword('not a url with secret')).not.toContain('secret');
  });
});

describe('describeConnectionProblem', () => {
  const url = 'postgres://conductor:secret@db.internal:6543/app';
  const say = (error: unknown) => describeConnectionProblem(url, error, 10_000);

  it('names DATABASE_URL (password hidden) and what to check, in one sentence', () => {
    const text = say(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(text).toBe(
      'cannot connect to the database at DATABASE_URL=postgres://conductor:***@db.internal:6543/app: nothing accepts connections on db.internal port 6543; check that PostgreSQL runs there and that the host and port in DATABASE_URL are right.',
    );
    expect(text).not.toContain('secret');
  });

  it('reads the code of an AggregateError (one error per address tried)', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:6543'), { code: 'ECONNREFUSED' });
    expect(say(new AggregateError([inner, inner]))).toContain('nothing accepts connections');
  });

  it.each([
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND db.internal' }, 'the host name "db.internal" cannot be resolved; check the host in DATABASE_URL.'],
    [{ code: '28P01', message: 'password authentication failed for user "conductor"' }, 'PostgreSQL refused the password of user "conductor"; check the user and password in DATABASE_URL.'],
    [{ code: '3D000', message: 'database "app" does not exist' }, 'the database "app" does not exist on that server; create it, or fix the database name at the end of DATABASE_URL.'],
    [
      { message: 'Connection terminated due to connection timeout' },
      'db.internal port 6543 did not answer within 10 s; check the host and port in DATABASE_URL and any firewall between them.',
    ],
    [
      { message: 'The server does not support SSL connections' },
      "the TLS handshake failed (The server does not support SSL connections); check the sslmode in DATABASE_URL and the server's certificate.",
    ],
  ])('%j', (error, ending) => {
    expect(say(Object.assign(new Error(error.message), error))).toMatch(new RegExp(`: ${ending.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });
});

describe('assertDatabaseReachable', () => {
  it('passes on the test server and names a missing database', async () => {
    const admin = inject('pgAdminUrl');
    await assertDatabaseReachable(admin);
    const missing = withDatabase(admin, 'conductor_no_such_database');
    const error = await assertDatabaseReachable(missing).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect((error as Error).message).toContain('the database "conductor_no_such_database" does not exist on that server');
    expect((error as Error).message).not.toContain(new URL(admin).password || '\u0000');
  });
});
