import type { Settings, SettingsPatch } from '../../common/contract.ts';
import type { Logger } from '../util/logger.ts';
import type { Outbox } from './outbox.ts';
import type { Store } from './store.ts';

/** What a start may set for its own room while the server is away (the CLI's --watch and --polling). */
const ROOM_KEYS = new Set<keyof Settings>(['watchDir', 'usePolling', 'pollIntervalMs', 'recursive']);

/**
 * The settings of a workstation on PostgreSQL, kept beside its local queue: the ones it last used are what a
 * start while the server is away works with (the settings live in the shared database). Such a start may
 * still point the room at its own folder (`--watch`, `--polling`): applied now, saved once the server is
 * back. Any other change while away is the server's to refuse (the UI says it is unreachable).
 */
export class SettingsWhileAway {
  private deferred: SettingsPatch | null;

  constructor(
    private readonly o: {
      store: Store;
      outbox: Outbox | null;
      dbPath: string;
      logger: Logger;
      /** Started while the server was away: the settings remembered then. */
      away: { settings: Settings } | null;
    },
  ) {
    this.deferred = o.away ? {} : null;
  }

  /** The settings to start with, `watchDir` (the start's own folder) applied. */
  async initial(watchDir?: string): Promise<Settings> {
    const { store, away, outbox } = this.o;
    if (away) {
      const patch = watchDir !== undefined ? { watchDir } : {};
      this.deferred = patch;
      return { ...away.settings, ...patch };
    }
    if (watchDir !== undefined) await store.updateSettings({ watchDir });
    const settings = await store.getSettings();
    outbox?.rememberDatabase(this.o.dbPath, (await store.health()).schemaVersion, settings);
    return settings;
  }

  /** A change of this room's own settings while the server has not been reached since the start; else null. */
  whileAway(patch: SettingsPatch, current: Settings): Settings | null {
    if (!this.deferred) return null;
    if (!Object.keys(patch).every((k) => ROOM_KEYS.has(k as keyof Settings))) return null;
    this.deferred = { ...this.deferred, ...patch };
    return { ...current, ...patch };
  }

  saved(settings: Settings): void {
    this.o.outbox?.rememberSettings(settings);
  }

  /** The server answers again: what the start set for this room is saved, and this database remembered. */
  async back(): Promise<void> {
    const patch = this.deferred;
    if (!patch) return;
    this.deferred = null;
    try {
      const settings = Object.keys(patch).length
        ? await this.o.store.updateSettings(patch)
        : await this.o.store.getSettings();
      this.o.outbox?.rememberDatabase(this.o.dbPath, (await this.o.store.health()).schemaVersion, settings);
    } catch (err) {
      // Lost again at once: tried when it answers next (the room runs with these settings meanwhile).
      this.deferred = patch;
      this.o.logger.warn(`saving this room's settings once the database answered: ${(err as Error).message}`);
    }
  }
}
