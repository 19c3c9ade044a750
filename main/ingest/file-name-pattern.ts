import { RE2JS } from 're2js';
import type { Ear, PatternPreview } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

export interface ParsedName {
  matched: boolean;
  patientId: string | null;
  ear: Ear;
  /** ISO date-time in UTC for the local date/time found in the name, or null. */
  capturedAt: string | null;
}

const TOKENS: Record<string, string> = {
  patient: '(?P<patient>[\\p{L}\\p{N}]+(?:[.][\\p{L}\\p{N}]+)*)',
  ear: '(?P<ear>left|right|l|r|ad|as|좌측?|우측?|좌|우)',
  date: '(?P<date>\\d{4}[-.]?\\d{2}[-.]?\\d{2})',
  time: '(?P<time>\\d{2}[-:.]?\\d{2}(?:[-:.]?\\d{2})?)',
};
const GROUPS = ['patient', 'ear', 'date', 'time'] as const;

export type CompiledPattern = (relativePath: string) => ParsedName;

/**
 * Compiles a file-name pattern (see `Settings.fileNamePattern` in the contract). Throws EngineError
 * `invalid_args` with a clear message for a malformed pattern.
 *
 * Both templates and `re:` expressions run on RE2 (re2js): an automaton that reads each name once, so the time
 * is linear in the name's length whatever the pattern (`re:^(?<patient>(a|a)+)$` on a long name blocked a
 * backtracking engine for seconds). The price: no look-arounds and no back-references, which RE2 refuses.
 */
export function compilePattern(
  pattern: string,
  utcOffsetMinutes = -new Date().getTimezoneOffset(),
): CompiledPattern {
  let re: RE2JS;
  try {
    if (pattern.startsWith('re:')) {
      re = compileRe2(pattern.slice(3));
    } else {
      let src = '';
      let i = 0;
      const used = new Set<string>();
      let depth = 0;
      while (i < pattern.length) {
        const c = pattern[i]!;
        if (c === '{') {
          const end = pattern.indexOf('}', i);
          const name = end > 0 ? pattern.slice(i + 1, end) : '';
          const token = TOKENS[name];
          if (!token) throw new Error(`unknown token {${name}} (use {patient}, {ear}, {date}, {time})`);
          if (used.has(name)) throw new Error(`{${name}} appears twice`);
          used.add(name);
          src += token;
          i = end + 1;
        } else if (c === '*') {
          src += '.*?';
          i++;
        } else if (c === '_' || c === '-' || c === ' ') {
          src += '[-_ ]+';
          while (i < pattern.length && /[-_ ]/.test(pattern[i]!)) i++;
        } else if (c === '[') {
          src += '(?:';
          depth++;
          i++;
        } else if (c === ']') {
          if (depth === 0) throw new Error('"]" without "["');
          src += ')?';
          depth--;
          i++;
        } else if (c === '/') {
          src += '/';
          i++;
        } else {
          src += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          i++;
        }
      }
      if (depth !== 0) throw new Error('"[" without "]"');
      re = compileRe2(`(?:^|/)${src}$`);
    }
  } catch (err) {
    throw new EngineError(
      ErrorCodes.invalidArgs,
      `Invalid file-name pattern "${pattern}": ${(err as Error).message}`,
    );
  }
  return (relativePath) => {
    const normal = relativePath.replace(/\\/g, '/').replace(/\.[^./]*$/, '');
    const m = re.matcher(normal);
    if (!m.find()) return { matched: false, patientId: null, ear: 'unknown', capturedAt: null };
    const names = re.namedGroups() as Record<string, number>;
    const g: Partial<Record<(typeof GROUPS)[number], string>> = {};
    for (const name of GROUPS) {
      const value = name in names ? m.group(name) : null;
      if (value) g[name] = value;
    }
    return {
      matched: true,
      patientId: g.patient ? g.patient : null,
      ear: parseEar(g.ear),
      capturedAt: parseDateTime(g.date, g.time, utcOffsetMinutes),
    };
  };
}

function compileRe2(source: string): RE2JS {
  try {
    return RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    const detail = (err as Error).message.replace(/^error parsing regexp: /, '');
    const hint = /\(\?<?[=!]|\\[1-9k]/.test(source)
      ? ' (look-arounds and back-references are not supported: patterns must run in linear time)'
      : '';
    throw new Error(`${detail}${hint}`);
  }
}

export function parseEar(s: string | undefined): Ear {
  if (!s) return 'unknown';
  const v = s.toLowerCase();
  if (['l', 'left', 'as', '좌', '좌측'].includes(v)) return 'left';
  if (['r', 'right', 'ad', '우', '우측'].includes(v)) return 'right';
  return 'unknown';
}

function parseDateTime(
  date: string | undefined,
  time: string | undefined,
  offsetMinutes: number,
): string | null {
  if (!date) return null;
  const d = date.replace(/[-.]/g, '');
  const y = Number(d.slice(0, 4));
  const mo = Number(d.slice(4, 6));
  const day = Number(d.slice(6, 8));
  const t = (time ?? '').replace(/[-:.]/g, '');
  const h = t ? Number(t.slice(0, 2)) : 0;
  const mi = t ? Number(t.slice(2, 4)) : 0;
  const s = t.length >= 6 ? Number(t.slice(4, 6)) : 0;
  if (mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59 || y < 1900) return null;
  const ms = Date.UTC(y, mo - 1, day, h, mi, s) - offsetMinutes * 60_000;
  const check = new Date(Date.UTC(y, mo - 1, day));
  if (check.getUTCDate() !== day) return null;
  return new Date(ms).toISOString();
}

export function previewPattern(
  pattern: string,
  sample: string,
  utcOffsetMinutes = -new Date().getTimezoneOffset(),
): PatternPreview {
  try {
    const parsed = compilePattern(pattern, utcOffsetMinutes)(sample);
    return { ...parsed, error: null };
  } catch (err) {
    const e = err as EngineError;
    return {
      matched: false,
      patientId: null,
      ear: 'unknown',
      capturedAt: null,
      error: { code: e.code ?? ErrorCodes.invalidArgs, message: e.message },
    };
  }
}
