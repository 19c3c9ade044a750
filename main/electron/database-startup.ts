import type { MessageBoxOptions, MessageBoxReturnValue } from 'electron';
import { removeDbConfig } from '../store/db-config.ts';
import type { PasswordKeeper } from '../store/db-password.ts';
import { SavedDatabaseError } from '../store/open-store.ts';

const STRINGS = {
  en: {
    title: 'Clinic database',
    quit: 'Quit',
    local: "Use this workstation's database",
    retry: 'Try again',
    detail:
      "This workstation's own database holds only the photos taken here while it was used; the clinic's history stays on the server.",
  },
  ko: {
    title: '병원 공용 데이터베이스',
    quit: '종료',
    local: '이 워크스테이션의 데이터베이스 사용',
    retry: '다시 시도',
    detail:
      '이 워크스테이션의 데이터베이스에는 이곳에서 사용하는 동안 촬영한 사진만 있으며, 병원의 기록은 서버에 그대로 남습니다.',
  },
} as const;

/**
 * The desktop app has no `--db` to go back with, so when the clinic database saved in Settings cannot be
 * opened at start it asks: try again, quit, or go back to this workstation's own database. Going back is the
 * person's choice, said in words, never a silent fallback (the two histories differ).
 */
export async function startWithSavedDatabase<T>(o: {
  start: () => Promise<T>;
  ask: (options: MessageBoxOptions) => Promise<MessageBoxReturnValue>;
  dataDir: string;
  keeper: PasswordKeeper;
  language: 'ko' | 'en';
}): Promise<T> {
  const s = STRINGS[o.language];
  for (;;) {
    try {
      return await o.start();
    } catch (err) {
      if (!(err instanceof SavedDatabaseError)) throw err;
      const { response } = await o.ask({
        type: 'error',
        title: s.title,
        message: err.message,
        detail: s.detail,
        buttons: [s.retry, s.local, s.quit],
        defaultId: 0,
        cancelId: 2,
        noLink: true,
      });
      if (response === 2) throw err;
      if (response === 1) {
        removeDbConfig(o.dataDir);
        o.keeper.forget();
      }
    }
  }
}
