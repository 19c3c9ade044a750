/**
 * One room's account using a shared library, run as a child process under another user id (setpriv) by
 * shared-library-modes.test.ts: `library-room.ts ROOT WORKSTATION ACTION...`, each action `put:REL:TEXT`,
 * `read:REL` or `check:REL` (Settings' "Test connection" look at the folder, REL a photo the database has). Prints one JSON line: what init opened, then each action's outcome (the text read, or
 * the error code), so the test sees what that account could and could not do.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkLibraryFolder } from '../../../main/library/library-check.ts';
import { ImageLibrary } from '../../../main/library/library.ts';

const [root, workstation, ...actions] = process.argv.slice(2);
if (process.env.ROOM_UMASK) process.umask(Number.parseInt(process.env.ROOM_UMASK, 8));
const library = new ImageLibrary('/nonexistent-data-dir', undefined, {
  root: root!,
  workstation: workstation!,
});
const out: { init: number | string; actions: string[] } = { init: 0, actions: [] };

/** The check's own code (`library.*`), else the file system's under the engine's wrapping. */
const code = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code?.startsWith('library.') ? e.code : (e.cause?.code ?? e.code);
};

try {
  out.init = await library.init();
} catch (err) {
  out.init = String(code(err));
}
for (const action of actions) {
  const [verb, rel, text] = action.split(':');
  try {
    if (verb === 'put') {
      await library.put(rel!, Buffer.from(text!));
      out.actions.push('ok');
    } else if (verb === 'check') out.actions.push((await checkLibraryFolder(root!, [rel!])).photos);
    else out.actions.push(await readFile(path.join(root!, rel!), 'utf8'));
  } catch (err) {
    out.actions.push(String(code(err)));
  }
}
console.log(JSON.stringify(out));
