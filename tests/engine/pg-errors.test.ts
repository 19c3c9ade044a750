import { describe, expect, it } from 'vitest';
import { classifyConnectError } from '../../main/store/db-check.ts';
import { describePgError } from '../../main/store/pg-errors.ts';

/**
 * One wording of a failed PostgreSQL connection for Settings → Clinic database and `eardrum migrate`: each
 * keeps its own codes (Settings' `database.*`, the command line's general ones) and the command line adds
 * where its password comes from. Errors shaped as node-postgres gives them (SQLSTATE or errno in `code`).
 */
const URL_ = 'postgres://eardrum@db.clinic.lan:5433/clinic';
const cases: [string, object, string, string, RegExp][] = [
  [
    'wrong password',
    { code: '28P01' },
    'database.wrong_password',
    'unauthorized',
    /refused the password for "eardrum"/,
  ],
  [
    'no password given',
    new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'),
    'database.wrong_password',
    'unauthorized',
    /asks for a password for "eardrum"/,
  ],
  [
    'not allowed',
    { code: '28000' },
    'database.not_allowed',
    'unauthorized',
    /does not let "eardrum" connect/,
  ],
  ['no such database', { code: '3D000' }, 'database.missing', 'not_found', /has no database "clinic"/],
  [
    'nothing listening',
    Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5433'), { code: 'ECONNREFUSED' }),
    'database.unreachable',
    'io_error',
    /No PostgreSQL answers at db\.clinic\.lan:5433 \(ECONNREFUSED\)/,
  ],
  [
    'unknown host',
    { code: 'ENOTFOUND' },
    'database.unreachable',
    'io_error',
    /^No PostgreSQL answers at db\.clinic\.lan:5433: that host is not known \(ENOTFOUND\)/,
  ],
  [
    'too slow',
    new Error('timeout expired'),
    'database.unreachable',
    'io_error',
    /^No PostgreSQL answers at db\.clinic\.lan:5433 in time \(timeout expired\)/,
  ],
];

describe('PostgreSQL connection errors in words', () => {
  it.each(cases)(
    '%s: the same sentence in Settings and migrate, each with its own code',
    (_, err, settingsCode, cliCode, words) => {
      const settings = classifyConnectError(err, URL_)!;
      const cli = describePgError(err, URL_);
      expect(settings.code).toBe(settingsCode);
      expect(cli.code).toBe(cliCode);
      expect(settings.message).toMatch(words);
      expect(cli.message.startsWith(settings.message)).toBe(true);
    },
  );

  it('adds the password file only on the command line, and keeps an unknown failure as it is', () => {
    expect(describePgError({ code: '28P01' }, URL_).message).toMatch(/--db-password-file/);
    expect(classifyConnectError({ code: '28P01' }, URL_)!.message).not.toMatch(/--db-password-file/);
    const odd = new Error('relation "x" does not exist');
    expect(classifyConnectError(odd, URL_)).toBeNull();
    expect(describePgError(odd, URL_)).toMatchObject({
      code: 'io_error',
      message: 'PostgreSQL at postgres://eardrum@db.clinic.lan:5433/clinic: relation "x" does not exist',
    });
  });
});
