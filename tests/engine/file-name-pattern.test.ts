import { describe, expect, it } from 'vitest';
import { DEFAULT_FILE_NAME_PATTERN } from '../../common/contract.ts';
import { compilePattern, previewPattern } from '../../main/ingest/file-name-pattern.ts';

describe('file-name patterns', () => {
  const utc = (p: string) => compilePattern(p, 0);

  it('reads patient, ear and date from common otoscope names with the default pattern', () => {
    const parse = utc(DEFAULT_FILE_NAME_PATTERN);
    expect(parse('12345_L_20261125_093015.jpg')).toEqual({
      matched: true,
      patientId: '12345',
      ear: 'left',
      capturedAt: '2026-11-25T09:30:15.000Z',
    });
    expect(parse('P0012-R-2026-11-25.png')).toMatchObject({
      patientId: 'P0012',
      ear: 'right',
      capturedAt: '2026-11-25T00:00:00.000Z',
    });
    expect(parse('A77 right.jpg')).toMatchObject({
      matched: true,
      patientId: 'A77',
      ear: 'right',
      capturedAt: null,
    });
    expect(parse('hong_좌_20260101.jpg')).toMatchObject({ patientId: 'hong', ear: 'left' });
    expect(parse('sub/dir/9981_AD_20260101_anything-else.jpeg')).toMatchObject({
      patientId: '9981',
      ear: 'right',
    });
  });

  it('says unknown when a name does not match, and never invents a date', () => {
    const parse = utc(DEFAULT_FILE_NAME_PATTERN);
    expect(parse('IMG_0001.jpg')).toEqual({
      matched: false,
      patientId: null,
      ear: 'unknown',
      capturedAt: null,
    });
    expect(parse('capture.jpg').matched).toBe(false);
    expect(parse('123_L_20261345.jpg')).toMatchObject({ matched: true, capturedAt: null });
    expect(parse('123_L_20260230.jpg').capturedAt).toBeNull();
  });

  it('supports folders, literals and raw regular expressions', () => {
    expect(utc('{patient}/{ear}*')('H-1/l_0001.jpg')).toMatchObject({ matched: false });
    expect(utc('{patient}/{ear}_*')('H1/L_0001.jpg')).toMatchObject({ patientId: 'H1', ear: 'left' });
    expect(utc('OTO_{date}_{patient}_{ear}')('oto_20260101_777_R.jpg')).toMatchObject({
      patientId: '777',
      ear: 'right',
    });
    expect(utc('re:^(?<patient>\\d+)-(?<ear>[LR])$')('55-R.jpg')).toMatchObject({
      patientId: '55',
      ear: 'right',
    });
  });

  it('applies the local UTC offset to dates in names', () => {
    expect(compilePattern('{patient}_{ear}_{date}_{time}', 540)('1_L_20260101_090000.jpg').capturedAt).toBe(
      '2026-01-01T00:00:00.000Z',
    );
  });

  it('explains malformed patterns instead of throwing at the caller', () => {
    expect(previewPattern('{patient}_{side}', 'x').error?.message).toMatch(/unknown token \{side\}/);
    expect(previewPattern('{patient}[_{ear}', 'x').error?.message).toMatch(/"\[" without "\]"/);
    expect(previewPattern('re:(', 'x').error?.code).toBe('invalid_args');
    expect(previewPattern('{patient}_{patient}', 'x').error?.message).toMatch(/twice/);
    expect(previewPattern(DEFAULT_FILE_NAME_PATTERN, '42_R_20260101.jpg')).toMatchObject({
      matched: true,
      error: null,
    });
  });
});
