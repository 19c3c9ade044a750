import type { ReferenceFeatures } from '../reference-features.ts';
import type { ReferenceRows } from './train-heads.ts';

/**
 * The reference features as training rows for the heads: the label index of each eardrum of a label the
 * model has (-1 for negatives and for eardrums of labels it dropped), and whether the row is an eardrum.
 */
export function toReferenceRows(ref: ReferenceFeatures, labels: readonly string[]): ReferenceRows {
  return {
    x: ref.x,
    rows: ref.rows,
    dim: ref.dim,
    labelIndex: Int32Array.from(ref.entries, (e) => (e.eardrum ? labels.indexOf(e.label) : -1)),
    eardrum: Uint8Array.from(ref.entries, (e) => (e.eardrum ? 1 : 0)),
  };
}
