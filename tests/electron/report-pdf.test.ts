import { describe, expect, it } from 'vitest';
import { saveWindowAsPdf } from '../../main/electron/report-pdf.ts';

function fakes(choice: { canceled: boolean; filePath?: string }) {
  const printed: unknown[] = [];
  const written: [string, Buffer][] = [];
  const asked: unknown[] = [];
  const win = {
    webContents: {
      printToPDF: async (options: unknown) => {
        printed.push(options);
        return Buffer.from('%PDF-1.7 report');
      },
    },
  };
  const dialog = {
    showSaveDialog: async (_win: unknown, options: unknown) => {
      asked.push(options);
      return choice;
    },
  };
  const write = async (file: string, data: Buffer) => void written.push([file, data]);
  return { win, dialog, write, printed, written, asked };
}

describe('saving the report as PDF in the desktop app', () => {
  it('asks where, prints the page to an A4 PDF with its backgrounds and writes it there', async () => {
    const f = fakes({ canceled: false, filePath: '/home/dr/report.pdf' });
    const path = await saveWindowAsPdf(f.win as never, f.dialog as never, 'eardrum-report-P1.pdf', f.write);
    expect(path).toBe('/home/dr/report.pdf');
    expect(f.asked).toEqual([
      { defaultPath: 'eardrum-report-P1.pdf', filters: [{ name: 'PDF', extensions: ['pdf'] }] },
    ]);
    expect(f.printed).toEqual([{ printBackground: true, pageSize: 'A4', preferCSSPageSize: true }]);
    expect(f.written).toEqual([['/home/dr/report.pdf', Buffer.from('%PDF-1.7 report')]]);
  });

  it('prints and writes nothing when the user cancels', async () => {
    const f = fakes({ canceled: true });
    expect(await saveWindowAsPdf(f.win as never, f.dialog as never, 'x.pdf', f.write)).toBeNull();
    expect(f.printed).toEqual([]);
    expect(f.written).toEqual([]);
  });
});
