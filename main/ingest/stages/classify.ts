import { readFile } from 'node:fs/promises';
import type { ErrorInfo } from '../../../common/contract.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import type { Diagnosis } from '../../../model/types.ts';
import type { ImageLibrary } from '../../library/library.ts';
import type { Diagnoser } from '../../model/diagnoser.ts';
import { ImageRejectedError } from '../../model/diagnoser.ts';
import { toEngineError } from '../../util/errors.ts';

export type Classified = { diagnosis: Diagnosis } | { failure: ErrorInfo };

/**
 * The model stage: the worker thread diagnoses the stored copy. A picture the model refuses (corrupt, too
 * small...) is a failure with its reason; a crashed worker is restarted once before the picture is given up.
 */
export async function classify(
  diagnoser: Diagnoser,
  library: ImageLibrary,
  storedPath: string | null,
  stillRunning: () => boolean,
): Promise<Classified> {
  const abs = storedPath ? await library.resolve(storedPath) : null;
  if (!abs) {
    return {
      failure: {
        code: ErrorCodes.notFound,
        message: 'The stored copy of this image is missing from the image library.',
      },
    };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return { diagnosis: await diagnoser.diagnose(await readFile(abs)) };
    } catch (err) {
      if (err instanceof ImageRejectedError)
        return { failure: { code: `image.${err.reason}`, message: sentence(err.message) } };
      if (attempt >= 2 || !stillRunning()) {
        const e = toEngineError(err, 'Diagnosing');
        return { failure: { code: e.code, message: e.message } };
      }
    }
  }
}

function sentence(s: string): string {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
