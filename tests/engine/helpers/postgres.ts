import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real PostgreSQL for the tests: a fresh cluster (initdb) in a temporary folder, listening on its own
 * Unix socket and a free TCP port on loopback, password authentication. No mock. Run as the `postgres`
 * account when the tests run as root (PostgreSQL refuses to run as root).
 */
export interface TestPostgres {
  /** `postgres://eardrum@127.0.0.1:PORT/DB` without the password. */
  url(db?: string): string;
  passwordFile: string;
  createDatabase(name: string): void;
  /** Stops the server ("fast" mode) and starts it again on the same folder and port. */
  restart(): Promise<void>;
  /** Stops the server ("fast": clients disconnected) and leaves it down until `startServer`. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

/** The folder holding initdb, pg_ctl and postgres, or null when PostgreSQL is not installed. */
export function findPostgresBin(): string | null {
  const fromEnv = process.env.EARDRUM_PG_BIN;
  if (fromEnv && existsSync(path.join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

export const postgresMissing = findPostgresBin() === null;
export const POSTGRES_SKIP_REASON =
  'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql, as .ci/run does';

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[]): string {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The kernel's range of ports for the local end of outgoing connections (Linux; the usual default elsewhere). */
function ephemeralPorts(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    // Not Linux: the IANA range.
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free port on loopback outside the ephemeral range. The tests stop the server and start it again on its
 * port; a port from that range can meanwhile become the local end of any outgoing connection on the machine
 * (another test file's, or a room reconnecting to this very server, which the kernel may connect to itself),
 * and the start then fails with "Address already in use". Outside the range only a listener can take it.
 */
async function freePort(): Promise<number> {
  const [lo, hi] = ephemeralPorts();
  const below: [number, number] = [Math.max(10_000, lo - 12_000), lo - 1];
  const above: [number, number] = [hi + 1, 65_535];
  const bands = [below, above].filter(([a, b]) => b - a >= 1000);
  for (const [a, b] of bands)
    for (let i = 0; i < 50; i++) {
      const port = a + Math.floor(Math.random() * (b - a + 1));
      if (await canListen(port)) return port;
    }
  throw new Error(`no free port outside the ephemeral range ${lo}-${hi}`);
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(POSTGRES_SKIP_REASON);
  const dir = mkdtempSync(path.join(tmpdir(), 'eardrum-pg-'));
  chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwFile = path.join(dir, 'password');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o644 });
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  run(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'eardrum',
    '--pwfile',
    pwFile,
    '-A',
    'scram-sha-256',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  chmodSync(pwFile, 0o600);
  if (asRoot) execFileSync('chown', ['root:root', pwFile]);
  let port = await freePort();
  const log = path.join(dir, 'server.log');
  const pgCtl = (...args: string[]) => run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-t', '60', ...args]);
  const options = () =>
    [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=60',
    ].join(' ');
  const start = async () => {
    try {
      pgCtl('-l', log, '-o', options(), 'start');
    } catch (err) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '';
      throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${tail}`);
    }
  };
  // "fast": clients are disconnected, as when the server restarts in a clinic.
  const stopServer = async () => {
    try {
      pgCtl('-m', 'fast', 'stop');
    } catch {
      // Not running.
    }
  };
  // Another test file may have found the same port free and taken it first: the first start takes another.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (attempt === 3 || !/Address already in use/.test((err as Error).message)) throw err;
      port = await freePort();
    }
  }
  const psql = (sql: string) =>
    execFileSync(
      path.join(bin, 'psql'),
      ['-h', dir, '-p', String(port), '-U', 'eardrum', '-d', 'postgres', '-c', sql],
      {
        env: { ...process.env, PGPASSWORD: password },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  return {
    url: (db = 'postgres') => `postgres://eardrum@127.0.0.1:${port}/${db}`,
    passwordFile: pwFile,
    createDatabase: (name) => void psql(`CREATE DATABASE "${name}"`),
    restart: async () => {
      await stopServer();
      await start();
    },
    stopServer,
    startServer: start,
    stop: async () => {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
