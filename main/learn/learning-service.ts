import type { AdaptJob, EngineEvent, LearningSummary, ModelEntry } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import type { ImageLibrary } from '../library/library.ts';
import type { Diagnoser } from '../model/diagnoser.ts';
import { AdaptFailure, type AdaptHandle } from '../model/diagnoser.ts';
import type { ReviewedPhoto } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { EngineError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { modelEntry, type ModelCatalog } from './model-catalog.ts';
import { recordedBefore } from './recorded-answers.ts';

/** A label takes part in adaptation from this many reviewed photos (as `eardrum adapt` requires). */
export const MIN_PHOTOS_PER_LABEL = 3;
/** Fewer photos than this in all are not worth a model of their own. */
export const MIN_PHOTOS_TOTAL = 6;
/** Progress events at most this often. */
const PROGRESS_EVERY_MS = 250;

const IDLE: AdaptJob = {
  state: 'idle',
  phase: null,
  done: 0,
  total: 0,
  startedAt: null,
  photosPerLabel: {},
  candidate: null,
  error: null,
};

export interface LearningDeps {
  store: Pick<Store, 'reviewedPhotos'>;
  library: ImageLibrary;
  catalog: ModelCatalog;
  diagnoser: Diagnoser;
  /** Makes the engine use the model in `dir` for new photos (the diagnoser, the store's labels and cards). */
  switchModel(dir: string): Promise<void>;
  emit(e: EngineEvent): void;
  logger: Logger;
  now?: () => Date;
}

/**
 * "Learn from reviewed photos": counts the reviewed photos per label, adapts a model (the catalog's adaptFromDir:
 * general features adapt to a new otoscope better than the fine-tuned shipped ones) to them in the
 * model worker (diagnoses go on between its steps), keeps the new model aside until the clinic decides, and
 * switches between the shipped model and the adapted ones. Always adapts the shipped model, with every
 * reviewed photo, so adaptations never stack.
 */
export class LearningService {
  private job: AdaptJob = IDLE;
  private handle: AdaptHandle | null = null;
  private lastProgress = 0;

  constructor(private readonly d: LearningDeps) {
    d.catalog.clearCandidates();
  }

  private labels(): string[] {
    return this.d.diagnoser.card.labels.map((l) => l.id);
  }

  private setJob(job: AdaptJob): void {
    this.job = job;
    this.d.emit({ type: 'learn.progress', job });
  }

  async summary(): Promise<LearningSummary> {
    const labels = this.labels();
    const counts = new Map(labels.map((l) => [l, 0]));
    for (const p of await this.d.store.reviewedPhotos())
      if (counts.has(p.label)) counts.set(p.label, counts.get(p.label)! + 1);
    const usable = [...counts.values()].filter((n) => n >= MIN_PHOTOS_PER_LABEL).reduce((a, b) => a + b, 0);
    const activeModelId = this.d.diagnoser.card.id;
    return {
      reviewed: labels.map((label) => ({ label, photos: counts.get(label)! })),
      minPerLabel: MIN_PHOTOS_PER_LABEL,
      minTotal: MIN_PHOTOS_TOTAL,
      usable,
      canStart: usable >= MIN_PHOTOS_TOTAL && this.job.state !== 'running' && this.job.state !== 'ready',
      models: this.d.catalog.list(activeModelId),
      activeModelId,
      job: this.job,
    };
  }

  async start(): Promise<AdaptJob> {
    if (this.job.state === 'running' || this.job.state === 'ready') {
      throw new EngineError(
        ErrorCodes.busy,
        this.job.state === 'running'
          ? 'The model is already learning from the reviewed photos.'
          : 'A new model is waiting: use it or keep the current one first.',
      );
    }
    const diagnoser = this.d.diagnoser;
    if (!diagnoser.adapt) {
      throw new EngineError(ErrorCodes.unsupported, 'This model runner cannot learn from photos.');
    }
    const labels = new Set(this.labels());
    const reviewed = (await this.d.store.reviewedPhotos()).filter((p) => labels.has(p.label));
    const perLabel = new Map<string, number>();
    for (const p of reviewed) perLabel.set(p.label, (perLabel.get(p.label) ?? 0) + 1);
    const chosen = reviewed.filter((p) => perLabel.get(p.label)! >= MIN_PHOTOS_PER_LABEL);
    if (chosen.length < MIN_PHOTOS_TOTAL) {
      throw new EngineError(
        ErrorCodes.invalidArgs,
        `Learning needs at least ${MIN_PHOTOS_TOTAL} reviewed photos in labels with ${MIN_PHOTOS_PER_LABEL} or more (now ${chosen.length}).`,
      );
    }
    const photos: { file: string; label: string; name: string; record: ReviewedPhoto }[] = [];
    for (const p of chosen) {
      const file = await this.d.library.resolve(p.storedPath);
      if (file) photos.push({ file, label: p.label, name: `record ${p.id} (${p.fileName})`, record: p });
      else this.d.logger.warn(`learning: the stored copy of record ${p.id} is missing; skipped`);
    }
    // A label that lost photos to missing copies may now be under the minimum: leave it out.
    const kept = new Map<string, number>();
    for (const p of photos) kept.set(p.label, (kept.get(p.label) ?? 0) + 1);
    const usable = photos.filter((p) => kept.get(p.label)! >= MIN_PHOTOS_PER_LABEL);
    if (usable.length < MIN_PHOTOS_TOTAL) {
      throw new EngineError(ErrorCodes.invalidArgs, 'Too few reviewed photos have their stored copy.');
    }
    const now = (this.d.now ?? (() => new Date()))();
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const modelId = `${this.d.catalog.adaptFromId}-adapted-${stamp}`;
    this.d.catalog.clearCandidates();
    const photosPerLabel = Object.fromEntries([...kept].filter(([, n]) => n >= MIN_PHOTOS_PER_LABEL));
    this.setJob({ ...IDLE, state: 'running', startedAt: now.toISOString(), photosPerLabel });
    const handle = diagnoser.adapt(
      {
        baseDir: this.d.catalog.adaptFromDir,
        outDir: this.d.catalog.candidateDir(modelId),
        modelId,
        photos: usable.map(({ file, label, name }) => ({ file, label, name })),
      },
      (p) => {
        const t = Date.now();
        if (this.job.state !== 'running') return;
        const phaseChanged = p.phase !== this.job.phase;
        this.job = { ...this.job, phase: p.phase, done: p.done, total: p.total };
        if (phaseChanged || t - this.lastProgress >= PROGRESS_EVERY_MS || p.done === p.total) {
          this.lastProgress = t;
          this.d.emit({ type: 'learn.progress', job: this.job });
        }
      },
    );
    this.handle = handle;
    handle.done.then(
      (result) => {
        if (this.handle !== handle) return;
        this.handle = null;
        this.d.logger.info(`learning: new model ${modelId} in ${result.seconds.toFixed(0)} s`);
        this.setJob({
          ...this.job,
          state: 'ready',
          done: this.job.total,
          candidate: recordedBefore(
            modelEntry(result.card, 'adapted', false),
            usable.map((p) => p.record),
          ),
        });
      },
      (err: unknown) => {
        if (this.handle !== handle) return;
        this.handle = null;
        this.d.catalog.dropCandidate(modelId);
        if (err instanceof AdaptFailure && err.code === 'cancelled') {
          this.setJob(IDLE);
          return;
        }
        const message =
          err instanceof AdaptFailure ? err.problems.join('\n') : ((err as Error)?.message ?? String(err));
        this.d.logger.warn(`learning failed: ${message}`);
        this.setJob({
          ...this.job,
          state: 'failed',
          error: {
            code:
              err instanceof AdaptFailure && err.code === 'input'
                ? ErrorCodes.invalidArgs
                : ErrorCodes.internal,
            message,
          },
        });
      },
    );
    return this.job;
  }

  cancel(): AdaptJob {
    if (this.job.state === 'running') {
      this.handle?.cancel();
    } else if (this.job.state === 'failed') {
      this.setJob(IDLE);
    }
    return this.job;
  }

  /** "Use this model" (the new model becomes the active one) or "Keep the current one" (it is deleted). */
  async decide(use: boolean): Promise<LearningSummary> {
    const candidate: ModelEntry | null = this.job.state === 'ready' ? this.job.candidate : null;
    if (!candidate) throw new EngineError(ErrorCodes.invalidArgs, 'No new model is waiting for a decision.');
    if (use) {
      const dir = this.d.catalog.keepCandidate(candidate.id);
      await this.activate(candidate.id, dir);
    } else {
      this.d.catalog.dropCandidate(candidate.id);
    }
    this.setJob(IDLE);
    return this.summary();
  }

  /** Switches to a model of the list: the shipped one (to go back) or an adapted one. */
  async use(id: string): Promise<LearningSummary> {
    const dir = this.d.catalog.dirOf(id);
    if (!dir) throw new EngineError(ErrorCodes.notFound, `There is no model ${id}.`);
    if (id !== this.d.diagnoser.card.id) await this.activate(id, dir);
    return this.summary();
  }

  private async activate(id: string, dir: string): Promise<void> {
    await this.d.switchModel(dir);
    this.d.catalog.setActive(id);
    this.d.emit({
      type: 'model.changed',
      modelId: this.d.diagnoser.card.id,
      version: this.d.diagnoser.card.version,
    });
  }

  /** Stops a running adaptation (engine shutdown). */
  stop(): void {
    this.handle?.cancel();
    this.handle = null;
  }
}
