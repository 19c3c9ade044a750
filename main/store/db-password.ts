import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DatabaseErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { PRIVATE_FILE_MODE, makeFilePrivate } from '../util/private-files.ts';
import { readPasswordFile } from './pg-pool.ts';

/** The password file of `eardrum serve` (and of the desktop app where no keychain is available). */
export const PASSWORD_FILE_NAME = 'database-password';

/**
 * Where the config file says the clinic database's password is: encrypted by the operating system's keychain
 * (desktop app; only that account on that computer can decrypt it), in the private password file, or none.
 */
export const savedPasswordSchema = z.discriminatedUnion('kept', [
  z.object({ kept: z.literal('keychain'), encrypted: z.string().min(1) }),
  z.object({ kept: z.literal('file') }),
  z.object({ kept: z.literal('none') }),
]);
export type SavedPassword = z.infer<typeof savedPasswordSchema>;

/** Keeps the one clinic-database password of a data folder, never in clear in the config file. */
export interface PasswordKeeper {
  /** Where `save` puts a password. */
  readonly kind: 'keychain' | 'file';
  /** The private file a `file` password goes to. */
  readonly file: string;
  save(password: string): SavedPassword;
  /** The password, or a `database.password_unavailable` error saying why it cannot be read here. */
  read(saved: SavedPassword): string | undefined;
  /** Deletes the password file, if any (the keychain's copy lives only in the config file). */
  forget(): void;
}

/**
 * Writes `text` to `file` with mode 0600 from the first byte (never world-readable, even for a moment):
 * a temporary file in the same folder, fsynced, then renamed over the old one.
 */
export function writePrivateFileAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A umask cannot widen the mode, but an existing temporary file keeps its own: make sure.
  makeFilePrivate(tmp);
  renameSync(tmp, file);
}

/**
 * `eardrum serve`'s keeper: a file readable only by this account (0600) in the private data folder. Honest
 * limit: anyone who can read this account's files (or its backups) can read the password; it is not a keychain.
 */
export function filePasswordKeeper(dataDir: string): PasswordKeeper {
  const file = path.join(dataDir, PASSWORD_FILE_NAME);
  return {
    kind: 'file',
    file,
    save(password) {
      if (password === '') {
        rmSync(file, { force: true });
        return { kept: 'none' };
      }
      writePrivateFileAtomic(file, `${password}\n`);
      return { kept: 'file' };
    },
    read(saved) {
      if (saved.kept === 'none') return undefined;
      if (saved.kept === 'keychain')
        throw new EngineError(
          DatabaseErrorCodes.passwordUnavailable,
          "The clinic database's password was saved by the desktop app in the system keychain, which " +
            'this program cannot read: give it with --db-password-file, or save it again in Settings.',
        );
      try {
        return readPasswordFile(file);
      } catch (err) {
        throw new EngineError(
          DatabaseErrorCodes.passwordUnavailable,
          `The clinic database's password file cannot be read (${(err as Error).message}): save the ` +
            'password again in Settings → Clinic database, or give it with --db-password-file.',
        );
      }
    },
    forget() {
      rmSync(file, { force: true });
    },
  };
}
