import type { SafeStorage } from 'electron';
import { DatabaseErrorCodes } from '../../common/contract.ts';
import type { PasswordKeeper } from '../store/db-password.ts';
import { EngineError } from '../util/errors.ts';

type SafeStorageLike = Pick<
  SafeStorage,
  'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'
>;

/**
 * The desktop app's keeper: the password encrypted with Electron's safeStorage (Keychain on macOS, DPAPI on
 * Windows, the Secret Service or KWallet on Linux), the ciphertext in the config file. Where safeStorage has
 * no real key store (Linux without a keyring falls back to "basic_text", a key built into Chromium), the
 * file keeper is used instead and Settings says so, rather than calling an obfuscation a keychain.
 */
export function keychainPasswordKeeper(
  safeStorage: SafeStorageLike,
  fallback: PasswordKeeper,
  platform: NodeJS.Platform = process.platform,
): PasswordKeeper {
  // getSelectedStorageBackend exists on Linux only.
  const kind =
    safeStorage.isEncryptionAvailable() &&
    (platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text')
      ? 'keychain'
      : 'file';
  return {
    kind,
    file: fallback.file,
    save(password) {
      if (kind === 'file' || password === '') return fallback.save(password);
      return { kept: 'keychain', encrypted: safeStorage.encryptString(password).toString('base64') };
    },
    read(saved) {
      if (saved.kept !== 'keychain') return fallback.read(saved);
      try {
        return safeStorage.decryptString(Buffer.from(saved.encrypted, 'base64'));
      } catch (err) {
        throw new EngineError(
          DatabaseErrorCodes.passwordUnavailable,
          `The system keychain could not decrypt the clinic database's password (${(err as Error).message}).`,
        );
      }
    },
    forget: () => fallback.forget(),
  };
}
