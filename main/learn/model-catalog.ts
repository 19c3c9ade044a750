import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AdaptComparison, ModelEntry } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

interface CardJson {
  id?: unknown;
  version?: unknown;
  created?: unknown;
  adaptation?: {
    base?: { id?: unknown };
    photosPerLabel?: Record<string, number>;
    crossValidation?: AdaptComparison;
  };
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

function readCard(dir: string): CardJson | null {
  try {
    const card = JSON.parse(readFileSync(path.join(dir, 'model-card.json'), 'utf8')) as CardJson;
    return typeof card?.id === 'string' && typeof card.version === 'string' ? card : null;
  } catch {
    return null;
  }
}

/** What the UI shows of a model folder's card. */
export function modelEntry(
  card: Record<string, unknown>,
  kind: ModelEntry['kind'],
  active: boolean,
): ModelEntry {
  const c = card as CardJson;
  return {
    id: String(c.id),
    version: String(c.version),
    kind,
    createdAt: typeof c.created === 'string' ? c.created : '',
    baseId: typeof c.adaptation?.base?.id === 'string' ? c.adaptation.base.id : null,
    photosPerLabel: c.adaptation?.photosPerLabel ?? {},
    comparison: c.adaptation?.crossValidation ?? null,
    active,
  };
}

/**
 * The models this installation can use: the shipped one (read-only, from resources/) and the ones adapted
 * from the clinic's reviewed photos, kept in the data folder:
 *
 *     <dataDir>/models/<id>/            an adapted model, a complete model folder
 *     <dataDir>/models/current.json     {"id": ...}: the model in use (absent: the shipped one)
 *     <dataDir>/models/.candidates/<id> a new model waiting for "Use this model" / "Keep the current one"
 */
export class ModelCatalog {
  readonly root: string;
  readonly candidatesDir: string;
  private readonly shippedCard: CardJson;

  constructor(
    readonly shippedDir: string,
    dataDir: string,
    /** Where adapting starts (resources/models/current.json `adaptFrom`); the shipped model by default. */
    readonly adaptFromDir: string = shippedDir,
  ) {
    this.root = path.join(dataDir, 'models');
    this.candidatesDir = path.join(this.root, '.candidates');
    const card = readCard(shippedDir);
    if (!card) {
      throw new EngineError(
        ErrorCodes.modelUnavailable,
        `The shipped model in ${shippedDir} has no readable card.`,
      );
    }
    this.shippedCard = card;
  }

  /** The id of the model adapting starts from (its folder's name). */
  get adaptFromId(): string {
    return this.adaptFromDir === this.shippedDir ? this.shippedId : path.basename(this.adaptFromDir);
  }

  get shippedId(): string {
    return String(this.shippedCard.id);
  }

  /** A new adaptation's folder; the candidates left by an earlier run (never decided) are removed first. */
  candidateDir(id: string): string {
    if (!SAFE_ID.test(id)) throw new EngineError(ErrorCodes.invalidArgs, `Not a model id: ${id}`);
    return path.join(this.candidatesDir, id);
  }

  clearCandidates(): void {
    rmSync(this.candidatesDir, { recursive: true, force: true });
  }

  /** The folder of model `id`, or null when there is no such usable model. */
  dirOf(id: string): string | null {
    if (id === this.shippedId) return this.shippedDir;
    if (!SAFE_ID.test(id)) return null;
    const dir = path.join(this.root, id);
    return readCard(dir)?.id === id ? dir : null;
  }

  /** The model chosen in the data folder (the shipped one when none was chosen). */
  activeId(): string {
    try {
      const { id } = JSON.parse(readFileSync(path.join(this.root, 'current.json'), 'utf8')) as {
        id?: unknown;
      };
      return typeof id === 'string' ? id : this.shippedId;
    } catch {
      return this.shippedId;
    }
  }

  setActive(id: string): void {
    mkdirSync(this.root, { recursive: true });
    const file = path.join(this.root, 'current.json');
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ id }, null, 2) + '\n');
    renameSync(tmp, file);
  }

  /** Moves a decided candidate into the catalogue. */
  keepCandidate(id: string): string {
    const from = this.candidateDir(id);
    const to = path.join(this.root, id);
    if (!existsSync(from)) throw new EngineError(ErrorCodes.notFound, `The new model ${id} is gone.`);
    renameSync(from, to);
    return to;
  }

  dropCandidate(id: string): void {
    rmSync(this.candidateDir(id), { recursive: true, force: true });
  }

  /** The shipped model first, then adapted ones, newest first. */
  list(activeId: string): ModelEntry[] {
    const adapted: ModelEntry[] = [];
    if (existsSync(this.root)) {
      for (const name of readdirSync(this.root)) {
        if (name.startsWith('.') || !SAFE_ID.test(name)) continue;
        const card = readCard(path.join(this.root, name));
        if (card?.id === name)
          adapted.push(modelEntry(card as Record<string, unknown>, 'adapted', name === activeId));
      }
    }
    adapted.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return [
      modelEntry(this.shippedCard as Record<string, unknown>, 'shipped', this.shippedId === activeId),
      ...adapted,
    ];
  }
}
