import type pg from 'pg';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { PgChangeListener, type HeardMemory } from './pg-listener.ts';
import type { Queryable } from './pg-pool.ts';
import type { ImageRow } from './record-rows.ts';
import type { RecordChange, SharedHistory } from './store.ts';

/** This room's name, its listener's connection settings, and where its listener keeps what it heard. */
export interface SharedOptions {
  workstation: string;
  listenConfig: pg.ClientConfig;
  heard?: HeardMemory;
}

/** Another room holds a live claim on the photo: its answer is that room's to write. */
export class ClaimTakenError extends EngineError {
  constructor(
    readonly imageId: number,
    readonly holder: string,
  ) {
    super(ErrorCodes.busy, `Record ${imageId} is being diagnosed by another workstation (${holder}).`);
  }
}

/**
 * What several rooms on one PostgreSQL share beyond the history: claims on the photos waiting for the model
 * (table photo_claims, migration 2) and the change notifications (its trigger). Claim times are the
 * server's (`now()`), so rooms whose clocks disagree still agree on when a claim expires.
 */
export class PgSharedHistory implements SharedHistory {
  constructor(
    private readonly pool: pg.Pool,
    readonly workstation: string,
    /** Settings for the listener's own connection (the pool's, with this workstation's name). */
    private readonly listenConfig: pg.ClientConfig,
    /** Where the listener keeps the last snapshot it heard in full (the local queue), when there is one. */
    private readonly heard?: HeardMemory,
  ) {}

  async listen(
    onChange: (c: RecordChange) => void,
    onState: (s: { connected: boolean; error?: string }) => void,
    onSettings?: (by: string) => void,
  ): Promise<() => Promise<void>> {
    const l = new PgChangeListener({
      config: this.listenConfig,
      heard: this.heard,
      onChange,
      onState,
      ...(onSettings ? { onSettings } : {}),
    });
    await l.start();
    return () => l.stop();
  }

  async claimPhoto(imageId: number, leaseMs: number): Promise<boolean> {
    // ON CONFLICT ... WHERE runs on the latest version of a claim row, locked: of two rooms claiming at
    // once, one inserts and the other finds a live claim that is not its own. The photo's row is locked
    // too: a room committing its answer holds that lock while it ends its claim, and without it this
    // statement would judge "pending" from a snapshot taken before that commit, then find the claim gone
    // and take the answered photo (a second diagnosis, refused by the unique index; seen when two rooms
    // wrote their queued answers for one shared-folder photo after an outage). Locked, the row is read
    // again once that commit is done.
    const r = await this.pool.query(
      `WITH photo AS (
         SELECT id FROM images WHERE id = $1 AND status = 'pending' AND primary_id IS NULL FOR UPDATE
       )
       INSERT INTO photo_claims (image_id, claimed_by, claimed_at, heartbeat_at, expires_at)
       SELECT id, $2, now(), now(), now() + $3 * interval '1 millisecond' FROM photo
       ON CONFLICT (image_id) DO UPDATE SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at,
         heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
       WHERE photo_claims.claimed_by = excluded.claimed_by OR photo_claims.expires_at < now()
       RETURNING image_id`,
      [imageId, this.workstation, leaseMs],
    );
    return r.rowCount === 1;
  }

  async renewClaims(leaseMs: number): Promise<number> {
    const r = await this.pool.query(
      `UPDATE photo_claims SET heartbeat_at = now(), expires_at = now() + $2 * interval '1 millisecond'
       WHERE claimed_by = $1`,
      [this.workstation, leaseMs],
    );
    return r.rowCount ?? 0;
  }

  async releaseClaims(imageId?: number): Promise<void> {
    if (imageId === undefined)
      await this.pool.query('DELETE FROM photo_claims WHERE claimed_by = $1', [this.workstation]);
    else
      await this.pool.query('DELETE FROM photo_claims WHERE claimed_by = $1 AND image_id = $2', [
        this.workstation,
        imageId,
      ]);
  }

  async unclaimedPending(afterId: number, limit: number): Promise<ImageRow[]> {
    return (
      await this.pool.query<ImageRow>(
        `SELECT i.* FROM images i LEFT JOIN photo_claims c ON c.image_id = i.id
         WHERE i.status = 'pending' AND i.primary_id IS NULL AND i.stored_path IS NOT NULL AND i.id > $1
           AND (c.image_id IS NULL OR c.expires_at < now())
         ORDER BY i.id LIMIT $2`,
        [afterId, limit],
      )
    ).rows;
  }

  /**
   * Inside the transaction that writes a photo's answer (its row locked): the claim ends with it. A live
   * claim of another room refuses the answer (ClaimTakenError, the transaction rolls back): that room took
   * the photo over after this one's lease ran out, and its answer is the one kept.
   */
  async settle(q: Queryable, imageId: number): Promise<void> {
    const r = await q.query<{ claimed_by: string; live: boolean }>(
      'DELETE FROM photo_claims WHERE image_id = $1 RETURNING claimed_by, expires_at >= now() AS live',
      [imageId],
    );
    const held = r.rows[0];
    if (held && held.claimed_by !== this.workstation && held.live)
      throw new ClaimTakenError(imageId, held.claimed_by);
  }
}
