import type { LabelInfo } from './types.ts';

/** Display names for every dataset label (English, Korean) and whether it counts as abnormal. */
export const LABEL_NAMES: Record<string, Omit<LabelInfo, 'id'>> = {
  normal: { en: 'Normal eardrum', ko: '정상 고막', abnormal: false },
  aom: { en: 'Acute otitis media', ko: '급성 중이염', abnormal: true },
  com: { en: 'Chronic otitis media', ko: '만성 중이염', abnormal: true },
  effusion: { en: 'Middle-ear effusion', ko: '중이 삼출액 (삼출성 중이염)', abnormal: true },
  earwax: { en: 'Earwax (cerumen)', ko: '귀지 (이구)', abnormal: true },
  otitis_externa: { en: 'Otitis externa', ko: '외이도염', abnormal: true },
  tympanosclerosis: { en: 'Tympanosclerosis', ko: '고막경화증', abnormal: true },
  ventilation_tube: { en: 'Ventilation tube', ko: '환기관 (중이 환기 튜브)', abnormal: true },
  foreign_body: { en: 'Foreign body', ko: '외이도 이물', abnormal: true },
  pseudo_membrane: { en: 'Pseudomembrane', ko: '가성막', abnormal: true },
};

export function labelInfo(id: string): LabelInfo {
  const names = LABEL_NAMES[id] ?? { en: id, ko: id, abnormal: id !== 'normal' };
  return { id, ...names };
}
