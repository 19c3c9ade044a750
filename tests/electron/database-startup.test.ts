/** The desktop app's start when the clinic database saved in Settings cannot be opened. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startWithSavedDatabase } from '../../main/electron/database-startup.ts';
import { DB_CONFIG_FILE, writeDbConfig } from '../../main/store/db-config.ts';
import { PASSWORD_FILE_NAME, filePasswordKeeper } from '../../main/store/db-password.ts';
import { SavedDatabaseError } from '../../main/store/open-store.ts';
import { removeDir, tempDir } from '../engine/helpers/fs-helpers.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function setup(answers: number[]) {
  const dataDir = tempDir('estart');
  dirs.push(dataDir);
  const keeper = filePasswordKeeper(dataDir);
  writeDbConfig(dataDir, { url: 'postgres://eardrum@db.lan/clinic', password: keeper.save('pw-secret') });
  const asked: { message: string; buttons: string[] }[] = [];
  let starts = 0;
  const run = (failures: number) =>
    startWithSavedDatabase({
      dataDir,
      keeper,
      language: 'ko',
      ask: async (o) => {
        asked.push({ message: o.message, buttons: o.buttons ?? [] });
        return { response: answers.shift() ?? 2, checkboxChecked: false };
      },
      start: async () => {
        starts++;
        if (starts <= failures)
          throw new SavedDatabaseError('database.unreachable', 'The clinic database … cannot be opened');
        return `opened after ${starts}`;
      },
    });
  return { dataDir, asked, run, starts: () => starts };
}

describe('a saved clinic database that cannot be opened at start', () => {
  it('asks in the OS language: try again, or go back to this workstation’s database by choice', async () => {
    const t = setup([0, 1]);
    await expect(t.run(2)).resolves.toBe('opened after 3');
    expect(t.asked).toHaveLength(2);
    expect(t.asked[0]!.buttons).toEqual(['다시 시도', '이 워크스테이션의 데이터베이스 사용', '종료']);
    expect(t.asked[0]!.message).toMatch(/cannot be opened/);
    // Going back removed the saved choice and its password file; trying again did not.
    expect(existsSync(path.join(t.dataDir, DB_CONFIG_FILE))).toBe(false);
    expect(existsSync(path.join(t.dataDir, PASSWORD_FILE_NAME))).toBe(false);
  });

  it('quits with the error when asked to, keeping the choice; other errors are not asked about', async () => {
    const t = setup([2]);
    await expect(t.run(5)).rejects.toBeInstanceOf(SavedDatabaseError);
    expect(existsSync(path.join(t.dataDir, DB_CONFIG_FILE))).toBe(true);
    const asked: unknown[] = [];
    await expect(
      startWithSavedDatabase({
        dataDir: t.dataDir,
        keeper: filePasswordKeeper(t.dataDir),
        language: 'en',
        ask: async (o) => (asked.push(o), { response: 1, checkboxChecked: false }),
        start: () => Promise.reject(new Error('model missing')),
      }),
    ).rejects.toThrow('model missing');
    expect(asked).toEqual([]);
  });
});
