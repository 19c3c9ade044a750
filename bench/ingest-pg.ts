import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, redactUrl } from '../main/store/pg-pool.ts';
import { startPostgres, findPostgresBin, type TestPostgres } from '../tests/engine/helpers/postgres.ts';
import { SYNTHETIC_IMAGE_COLUMNS, syntheticImageColumns, syntheticRecords } from './ingest-data.ts';

/**
 * PostgreSQL for bench:ingest: the server `--pg URL` names (with `--pg-password-file FILE`), or a temporary one
 * started like the tests' (initdb into a temporary folder, on loopback). Each figure gets a database of its
 * own, created here and dropped at the end, so a clinic's server only ever sees `eardrum_bench_*` databases.
 */
export interface BenchPostgres {
  /** Where, without password, for the printout. */
  describe: string;
  passwordFile: string;
  /** A fresh empty database; its URL. */
  createDatabase(purpose: string): Promise<string>;
  close(): Promise<void>;
}

export async function benchPostgres(url: string | undefined, passwordFile: string | undefined) {
  let temp: TestPostgres | null = null;
  if (!url) {
    if (!findPostgresBin()) return null;
    temp = await startPostgres();
  }
  const adminUrl = url ?? temp!.url('postgres');
  const pw = passwordFile ?? temp?.passwordFile;
  if (!pw) throw new Error('--pg URL needs --pg-password-file FILE');
  const admin = createPool({ url: adminUrl, passwordFile: pw, max: 1 });
  const created: string[] = [];
  const tag = randomBytes(3).toString('hex');
  const result: BenchPostgres = {
    describe: temp ? 'a temporary PostgreSQL (initdb, fsync off as in the tests)' : redactUrl(adminUrl),
    passwordFile: pw,
    async createDatabase(purpose) {
      const name = `eardrum_bench_${tag}_${purpose}`;
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      created.push(name);
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async close() {
      for (const name of created)
        await admin
          .query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)
          .catch(() => undefined);
      await admin.end();
      await temp?.stop();
    },
  };
  return result;
}

/** The same synthetic records as SQLite's fill (ingest-data.ts), in batches of unnest()ed arrays, then ANALYZE. */
export async function fillSyntheticPg(pool: pg.Pool, n: number): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const flush = async (
      rows: ReturnType<typeof syntheticRecords> extends Iterable<infer R> ? R[] : never,
    ) => {
      if (rows.length === 0) return;
      await c.query(
        'INSERT INTO patients (id, created_at) SELECT DISTINCT ON (id) id, at FROM unnest($1::text[], $2::text[]) AS t(id, at) ON CONFLICT DO NOTHING',
        [rows.map((r) => r.image.patient_id), rows.map((r) => r.image.captured_at)],
      );
      await c.query(
        `INSERT INTO images (${syntheticImageColumns.join(', ')})
         SELECT * FROM unnest(${syntheticImageColumns.map((k, i) => `$${i + 1}::${SYNTHETIC_IMAGE_COLUMNS[k]}[]`).join(', ')})`,
        syntheticImageColumns.map((k) => rows.map((r) => r.image[k])),
      );
      const diagnosed = rows.filter((r) => r.diagnosis);
      await c.query(
        `INSERT INTO diagnoses (image_id, model_id, model_version, backend, gate, eardrum_probability, label,
           probabilities, decode_ms, inference_ms, total_ms, created_at)
         SELECT id, 'bench', '1', 'wasm', gate, 0.9, label, probs, 5, 20, 30, at
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, gate, label, probs, at)`,
        [
          diagnosed.map((r) => r.image.id),
          diagnosed.map((r) => r.diagnosis!.gate),
          diagnosed.map((r) => r.diagnosis!.label),
          diagnosed.map((r) => r.diagnosis!.probabilities),
          diagnosed.map((r) => r.image.captured_at),
        ],
      );
    };
    let batch: Parameters<typeof flush>[0] = [];
    for (const r of syntheticRecords(n)) {
      batch.push(r);
      if (batch.length === 5000) {
        await flush(batch);
        batch = [];
      }
    }
    await flush(batch);
    await c.query('UPDATE images i SET diagnosis_id = d.id FROM diagnoses d WHERE d.image_id = i.id');
    await c.query("SELECT setval(pg_get_serial_sequence('images', 'id'), (SELECT max(id) FROM images))");
    await c.query('COMMIT');
    // What a server's autovacuum does soon after a large load: statistics and the visibility map. One pass
    // right after the load leaves pages it could not clean up at that moment (a quarter of them in some runs),
    // and the planner then counts a filtered view by reading the whole table: a history built over months has
    // had many passes (pg-migrations.ts 4), so passes are repeated until the map covers the table.
    await c.query('VACUUM ANALYZE diagnoses');
    for (let pass = 0; pass < 5; pass++) {
      await c.query('VACUUM ANALYZE images');
      const { rows } = await c.query<{ settled: boolean }>(
        "SELECT relallvisible >= 0.99 * relpages AS settled FROM pg_class WHERE relname = 'images'",
      );
      if (rows[0]?.settled) break;
    }
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
