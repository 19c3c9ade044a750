import type { FileKind } from '../../common/contract.ts';
import type { ImageLibrary } from '../library/library.ts';
import type { Store } from '../store/store.ts';

/** The absolute path of a record's stored original, thumbnail or heatmap overlay, or null. */
export async function resolveStoredFile(
  services: { store: Pick<Store, 'row'>; library: Pick<ImageLibrary, 'resolve' | 'kindColumn'> },
  kind: FileKind,
  id: number,
): Promise<string | null> {
  const row = await services.store.row(id);
  if (!row) return null;
  const rel = row[services.library.kindColumn(kind)];
  return rel ? services.library.resolve(rel) : null;
}
