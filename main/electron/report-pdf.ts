import type { BrowserWindow, Dialog } from 'electron';
import { writeFile } from 'node:fs/promises';

type Window = Pick<BrowserWindow, 'webContents'>;

/**
 * Saves the report the window shows as a PDF: asks where (a save dialog), prints the page with Chromium's
 * own PDF printer (`webContents.printToPDF`, the report's print stylesheet and its A4 `@page`), writes it.
 * Null when the user cancels; nothing is printed then.
 */
export async function saveWindowAsPdf(
  win: Window,
  dialog: Pick<Dialog, 'showSaveDialog'>,
  suggestedName: string,
  write: (file: string, data: Buffer) => Promise<void> = writeFile,
): Promise<string | null> {
  const choice = await dialog.showSaveDialog(win as BrowserWindow, {
    defaultPath: suggestedName,
    filters: [{ name: 'PDF', extensions: ['pdf'] }],
  });
  if (choice.canceled || !choice.filePath) return null;
  const pdf = await win.webContents.printToPDF({
    printBackground: true,
    pageSize: 'A4',
    preferCSSPageSize: true,
  });
  await write(choice.filePath, pdf);
  return choice.filePath;
}
