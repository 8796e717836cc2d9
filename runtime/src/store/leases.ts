/**
 * Leases with TTL, heartbeat and fencing tokens. Time is the database's clock (`now()`), so holders on
 * different machines agree; the token increases on every acquisition, so a holder that lost its lease
 * (paused, partitioned, crashed and restarted) is refused when it writes with its old token.
 */
import type { Pool } from 'pg';
import { UpshiftError } from '../errors.ts';
import { wrapError } from '../wrap-error.ts';
import type { TxClient } from './pool.ts';

/** A held lease: present its token with every guarded write. */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
  readonly expiresAt: Date;
}

/** Anything that can run a query: a pool or a transaction client. */
export type Queryable = Pick<Pool, 'query'> | Pick<TxClient, 'query'>;

interface LeaseRow {
  token: string;
  expires_at: Date;
}

function toLease(name: string, holder: string, row: LeaseRow): Lease {
  return { name, holder, token: Number(row.token), expiresAt: row.expires_at };
}

/** Takes the lease if it is free or expired; throws LEASE_HELD while another holder's lease is live. */
export async function acquireLease(db: Queryable, name: string, holder: string, ttlMs: number): Promise<Lease> {
  const result = await run('acquire', name, () =>
    db.query<LeaseRow>(
      `INSERT INTO upshift.leases AS l (name, holder, token, expires_at)
       VALUES ($1, $2, 1, now() + make_interval(secs => $3::double precision / 1000))
       ON CONFLICT (name) DO UPDATE
         SET holder = EXCLUDED.holder, token = l.token + 1, expires_at = EXCLUDED.expires_at,
             acquired_at = now(), heartbeat_at = now()
         WHERE l.expires_at <= now() OR l.holder IS NULL
       RETURNING token, expires_at`,
      [name, holder, ttlMs],
    ),
  );
  const row = result.rows[0];
  if (!row) throw new UpshiftError('LEASE_HELD', `lease ${name} is held by another holder`, { context: { lease: name } });
  return toLease(name, holder, row);
}

/** Extends the lease; throws STALE_FENCING_TOKEN when someone acquired it since (our token is old). */
export async function heartbeatLease(db: Queryable, lease: Lease, ttlMs: number): Promise<Lease> {
  const result = await run('heartbeat', lease.name, () =>
    db.query<LeaseRow>(
      `UPDATE upshift.leases SET expires_at = now() + make_interval(secs => $3::double precision / 1000),
              heartbeat_at = now()
        WHERE name = $1 AND token = $2 AND holder IS NOT NULL
        RETURNING token, expires_at`,
      [lease.name, lease.token, ttlMs],
    ),
  );
  const row = result.rows[0];
  if (!row) throw staleToken(lease);
  return toLease(lease.name, lease.holder, row);
}

/** Gives the lease up early so the next holder need not wait for expiry; a stale token is a no-op. */
export async function releaseLease(db: Queryable, lease: Lease): Promise<boolean> {
  const result = await run('release', lease.name, () =>
    db.query(`UPDATE upshift.leases SET holder = NULL, expires_at = now() WHERE name = $1 AND token = $2`, [
      lease.name, lease.token,
    ]),
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Guards a write in transaction `tx`: locks the lease row (so no one can take it before we commit) and
 * refuses with STALE_FENCING_TOKEN unless `token` is current and unexpired.
 */
export async function assertFence(tx: TxClient, name: string, token: number): Promise<void> {
  const result = await run('fence', name, () =>
    tx.query<{ ok: boolean }>(
      `SELECT (token = $2 AND holder IS NOT NULL AND expires_at > now()) AS ok
         FROM upshift.leases WHERE name = $1 FOR SHARE`,
      [name, token],
    ),
  );
  if (result.rows[0]?.ok !== true) throw staleToken({ name, token });
}

/** Runs `write` only if `token` still fences lease `name`, in the same transaction. */
export async function guardedWrite<T>(tx: TxClient, lease: Pick<Lease, 'name' | 'token'>, write: () => Promise<T>): Promise<T> {
  await assertFence(tx, lease.name, lease.token);
  return write();
}

/** The refusal of a write whose fencing token is no longer current. */
export function staleToken(lease: Pick<Lease, 'name' | 'token'>): UpshiftError {
  return new UpshiftError('STALE_FENCING_TOKEN', `fencing token ${lease.token} for lease ${lease.name} is stale`, {
    context: { lease: lease.name, token: lease.token },
  });
}

async function run<T>(operation: string, lease: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrapError(err, { operation: `lease.${operation}`, lease });
  }
}

/** A running background heartbeat; `lease()` is the latest extension, `stop()` ends it. */
export interface Heartbeat {
  lease(): Lease;
  stop(): Promise<void>;
}

/**
 * Extends `lease` every `everyMs` (default a third of the TTL) until stopped. If an extension is
 * refused (someone took the lease) or fails past the lease's expiry, `onLost` is called once and the
 * heartbeat stops: the holder must stop writing (its guarded writes would be refused anyway).
 */
export function startHeartbeat(
  db: Queryable,
  lease: Lease,
  options: { ttlMs: number; everyMs?: number; onLost: (err: UpshiftError) => void },
): Heartbeat {
  let current = lease;
  let stopped = false;
  let inFlight = false;
  let beating: Promise<void> = Promise.resolve();
  const beat = async (): Promise<void> => {
    try {
      current = await heartbeatLease(db, current, options.ttlMs);
    } catch (err) {
      const error = wrapError(err, { lease: lease.name });
      // Reported once: a stopped heartbeat (or one that already reported the loss) says nothing more.
      if (stopped) return;
      if (error.code === 'STALE_FENCING_TOKEN' || Date.now() >= current.expiresAt.getTime()) {
        stopped = true;
        clearInterval(timer);
        options.onLost(error);
      }
    }
  };
  // One beat at a time: a slow database must not stack up concurrent heartbeats.
  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    inFlight = true;
    beating = beat().finally(() => {
      inFlight = false;
    });
  }, options.everyMs ?? Math.max(1, Math.floor(options.ttlMs / 3)));
  timer.unref();
  return {
    lease: () => current,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await beating;
    },
  };
}
