/**
 * The clinical words people read, in English and Korean: condition names, ears, states and gate
 * outcomes. One table for the screen (merged into the UI's translations), the CSV export and the printed
 * report, so a spreadsheet or a printout says exactly what the screen says.
 *
 * Imported by the renderer and by main: no runtime imports.
 */

export const TERMS = {
  en: {
    labels: {
      normal: 'Normal',
      aom: 'Acute otitis media',
      com: 'Chronic otitis media',
      effusion: 'Middle-ear effusion',
      earwax: 'Earwax',
      otitis_externa: 'Otitis externa',
      tympanosclerosis: 'Tympanosclerosis',
      ventilation_tube: 'Ventilation tube',
      foreign_body: 'Foreign body',
      pseudo_membrane: 'Pseudomembrane',
      // Gate outcomes a clinician can choose as the label of a review.
      not_eardrum: 'No eardrum found',
      ungradable: 'Image cannot be graded',
    },
    ear: { left: 'Left', right: 'Right', unknown: 'Unknown' },
    status: { pending: 'Waiting for analysis', done: 'Analysed', failed: 'Could not be read' },
    gate: { eardrum: 'Eardrum', not_eardrum: 'No eardrum', ungradable: 'Ungradable' },
    gateReason: {
      too_dark: 'Image too dark',
      overexposed: 'Image overexposed',
      blurred: 'Image blurred',
      too_small: 'Image too small',
    },
    decision: { confident: 'Confident', not_sure: 'Not sure, needs a clinician' },
    notSureReason: {
      low_confidence: 'no condition likely enough',
      unfamiliar: 'photo unlike the training photos',
    },
    yes: 'yes',
    no: 'no',
  },
  ko: {
    labels: {
      normal: '정상',
      aom: '급성 중이염',
      com: '만성 중이염',
      effusion: '삼출성 중이염 / 중이 삼출액',
      earwax: '귀지',
      otitis_externa: '외이도염',
      tympanosclerosis: '고막경화증',
      ventilation_tube: '환기관(튜브)',
      foreign_body: '이물',
      pseudo_membrane: '가성막',
      not_eardrum: '고막이 보이지 않습니다',
      ungradable: '판독할 수 없는 영상입니다',
    },
    ear: { left: '좌측', right: '우측', unknown: '미상' },
    status: { pending: '분석 대기 중', done: '분석 완료', failed: '파일을 읽을 수 없습니다' },
    gate: { eardrum: '고막', not_eardrum: '고막 없음', ungradable: '판독 불가' },
    gateReason: {
      too_dark: '영상이 너무 어둡습니다',
      overexposed: '영상이 너무 밝습니다',
      blurred: '영상이 흐립니다',
      too_small: '영상이 너무 작습니다',
    },
    decision: { confident: '확실', not_sure: '확실하지 않음, 의료진 확인 필요' },
    notSureReason: {
      low_confidence: '충분히 가능성 높은 소견 없음',
      unfamiliar: '학습한 사진과 다른 사진',
    },
    yes: '예',
    no: '아니요',
  },
} as const;

export type TermLanguage = keyof typeof TERMS;
type Terms = (typeof TERMS)[TermLanguage];

function lookup(table: Record<string, string>, id: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(table, id) ? table[id] : undefined;
}

/** A label id in words; `fallback` (e.g. the model card's own name) for ids this table lacks. */
export function termForLabel(lang: TermLanguage, id: string, fallback?: string): string {
  return lookup(TERMS[lang].labels, id) ?? fallback ?? id;
}

/**
 * A value of one of the tables (`ear`, `status`, `gate`, `gateReason`, `decision`, `notSureReason`) in words,
 * or the id itself.
 */
export function termFor(
  lang: TermLanguage,
  table: keyof Pick<Terms, 'ear' | 'status' | 'gate' | 'gateReason' | 'decision' | 'notSureReason'>,
  id: string,
): string {
  return lookup(TERMS[lang][table], id) ?? id;
}
