/**
 * MongoDB's own load signals for the throttle: `serverStatus` queues (`globalLock.currentQueue.total`:
 * operations waiting for a lock) and active clients, and the largest secondary lag from
 * `replSetGetStatus`. FerretDB answers `serverStatus` without `globalLock` and has no
 * `replSetGetStatus`: those signals are reported unavailable (the shard's progress says so) and the
 * throttle falls back to batch time and the shared budget.
 */
import { MongoClient } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { storeKeyOf, type StoreSignalReader, type StoreSignalReading } from './reading.ts';

interface ServerStatus {
  globalLock?: { currentQueue?: { total?: number }; activeClients?: { total?: number } };
}

interface ReplicaMember {
  stateStr?: string;
  optimeDate?: Date;
}

/** The signal reader of a MongoDB migration's server. */
export function createMongoSignalReader(migration: MongoMigration, connectionString: string): StoreSignalReader {
  const client = new MongoClient(connectionString, { maxPoolSize: 1, serverSelectionTimeoutMS: 5000, appName: `upshift-signals:${migration.ref}` });
  let replicaSet = true;
  return {
    storeKey: storeKeyOf(connectionString, migration.database),
    target: migration.database === undefined ? migration.collection : `${migration.database}.${migration.collection}`,
    read: async () => {
      const admin = client.db('admin');
      const status = await admin.command({ serverStatus: 1 }) as ServerStatus;
      const reading: StoreSignalReading = { unavailable: [] };
      const queued = status.globalLock?.currentQueue?.total;
      const active = status.globalLock?.activeClients?.total;
      if (typeof queued === 'number') reading.blockedSessions = queued;
      else reading.unavailable.push('lock queues');
      if (typeof active === 'number') reading.activeSessions = active;
      if (replicaSet) {
        const lag = await secondaryLag(client).catch(() => null);
        if (lag === null) replicaSet = false;
        else if (lag !== undefined) reading.replicationLagSeconds = lag;
      }
      if (!replicaSet) reading.unavailable.push('replication lag');
      return reading;
    },
    close: () => client.close(),
  };
}

/** The largest lag of a secondary behind the primary, seconds; undefined without secondaries. */
async function secondaryLag(client: MongoClient): Promise<number | undefined> {
  const status = await client.db('admin').command({ replSetGetStatus: 1 }) as { members?: ReplicaMember[] };
  const members = status.members ?? [];
  const primary = members.find((member) => member.stateStr === 'PRIMARY')?.optimeDate;
  const secondaries = members.filter((member) => member.stateStr === 'SECONDARY' && member.optimeDate);
  if (!primary || secondaries.length === 0) return undefined;
  return Math.max(...secondaries.map((member) => (primary.getTime() - (member.optimeDate?.getTime() ?? 0)) / 1000));
}
