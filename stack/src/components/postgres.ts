import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import type { Component, ComponentStatus } from '../component.ts';
import { runDirFor, runRoot } from '../paths.ts';
import { assertPortsFree, daemonStatus, logFile, runningPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';
import { run } from '../run.ts';
import { ports, versions } from '../versions.ts';

const name = 'postgres';
const binDir = `/usr/lib/postgresql/${versions.postgres}/bin`;
const runDir = runDirFor(name);
const dataDir = join(runDir, 'data');
const asRoot = process.getuid?.() === 0;
const adminUrl = `postgres://postgres@127.0.0.1:${ports.postgres}/postgres`;

/**
 * Settings for a throw-away test server: durability off (fsync, synchronous commit, full-page
 * writes). Benchmarks print these so their figures are read with them in mind.
 */
export const postgresTestSettings = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '400',
  shared_buffers: '256MB',
  listen_addresses: '127.0.0.1',
} as const;

/** PostgreSQL 15 from Debian's packages: the control store and a data store to migrate. */
export const postgres: Component = {
  name,
  version: versions.postgres,
  externalEnv: 'DATABASE_URL',

  async install() {
    if (existsSync(join(binDir, 'postgres'))) return;
    if (!asRoot) throw new Error(`postgres: ${binDir}/postgres is missing; install postgresql-${versions.postgres}`);
    await run('apt-get', ['install', '-y', '-q', `postgresql-${versions.postgres}`], {
      logTo: join(runDir, 'install.log'),
      what: `installing postgresql-${versions.postgres} from apt`,
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    });
  },

  async start() {
    if (runningPid(runDir, name)) return;
    await assertPortsFree(name, [ports.postgres]);
    await initCluster();
    const settings = Object.entries(postgresTestSettings).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
    startDaemon({
      name,
      runDir,
      command: join(binDir, 'postgres'),
      args: ['-D', dataDir, '-p', String(ports.postgres), '-k', runDir, ...settings],
      ...(asRoot ? { user: 'postgres' } : {}),
    });
    await waitUntil(name, canConnect, { timeoutMs: 60_000, log: logFile(runDir, name), daemon: { runDir, name } });
    await ensureDatabase('upshift');
  },

  async stop() {
    // SIGINT is PostgreSQL's fast shutdown: roll back open transactions and exit.
    await stopDaemon(runDir, name, { signal: 'SIGINT' });
  },

  async status(): Promise<ComponentStatus[]> {
    return [await daemonStatus({ name, version: versions.postgres, runDir, endpoints: { url: `postgres://postgres@127.0.0.1:${ports.postgres}/upshift` }, probe: canConnect })];
  },

  env() {
    return {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.postgres}/upshift`,
      POSTGRES_ADMIN_URL: adminUrl,
    };
  },
};

async function initCluster(): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (asRoot) {
    // The postgres user must be able to enter the run root to reach its data dir.
    chmodSync(runRoot, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(runDir, uid, gid);
    chownSync(dataDir, uid, gid);
  }
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const initdbArgs = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'];
  const [command, args] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', join(binDir, 'initdb'), ...initdbArgs]]
    : [join(binDir, 'initdb'), initdbArgs];
  await run(command, args, { logTo: join(runDir, 'initdb.log'), what: 'postgres: initdb' });
}

async function canConnect(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
}
