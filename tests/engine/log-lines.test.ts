import { afterEach, describe, expect, it, vi } from 'vitest';
import { doneLine } from '../../main/ingest/stages/notify.ts';
import { consoleLogger, escapeControl } from '../../main/util/logger.ts';

afterEach(() => vi.restoreAllMocks());

describe('log lines', () => {
  it('escape control characters so a file name cannot split or forge a line', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
    vi.spyOn(console, 'error').mockImplementation((m: string) => void lines.push(m));
    const log = consoleLogger();
    log.info('failed evil\n2026-01-01T00:00:00.000Z done fake.jpg: eardrum normal 99%.jpg: empty');
    log.error('bell\u0007 cr\r tab\t esc\u001b[31m del\u007f nel\u0085 ls\u2028 ps\u2029 C:\\inbox\\a.jpg');
    expect(lines).toHaveLength(2);
    // eslint-disable-next-line no-control-regex -- looking for control characters
    for (const l of lines) expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(lines[0]).toContain('evil\\n2026-01-01');
    expect(lines[1]).toContain('bell\\x07 cr\\r tab\\t esc\\x1b[31m del\\x7f nel\\x85 ls\\u2028 ps\\u2029');
    expect(lines[1]).toContain('C:\\inbox\\a.jpg');
    expect(escapeControl('홍길동_좌.jpg')).toBe('홍길동_좌.jpg');
  });

  it('say "not sure" on a diagnosed photo the model is not sure of', () => {
    const timings = { decodeMs: 10, inferenceMs: 20, totalMs: 42 };
    const base = { gate: 'eardrum' as const, label: 'aom', timings };
    expect(doneLine('a.jpg', { ...base, decision: 'not_sure' }, 0.52)).toBe(
      'done a.jpg: eardrum aom 52%, not sure [42 ms]',
    );
    expect(doneLine('a.jpg', { ...base, decision: 'confident' }, 0.91)).toBe(
      'done a.jpg: eardrum aom 91% [42 ms]',
    );
    expect(
      doneLine(
        'b.jpg',
        { gate: 'ungradable' as const, label: null, gateReason: 'blurred' as const, decision: null, timings },
        null,
      ),
    ).toBe('done b.jpg: ungradable (blurred) [42 ms]');
  });
});
