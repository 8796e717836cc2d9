/**
 * Versioned control-store migrations (schema `upshift`). Each version is applied once, in order, inside
 * one transaction under an advisory lock, so concurrent start-ups of many functions never race.
 * Never edit a released version: add a new one (the checksum check refuses edited history).
 */

/** One schema version: its number, a name, and the DDL that brings the previous version to it. */
export interface SchemaVersion {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The ordered history of the control-store schema. */
export const schemaVersions: readonly SchemaVersion[] = [
  {
    version: 1,
    name: 'runs, steps, leases, inbox, outbox',
    sql: `
CREATE TABLE upshift.runs (
  id          text PRIMARY KEY,
  status      text NOT NULL DEFAULT 'pending',
  request     jsonb,
  plan        jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

-- What a run holds: one workload or migration target can belong to one active run at a time.
CREATE TABLE upshift.run_targets (
  run_id      text NOT NULL REFERENCES upshift.runs(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('workload', 'migration')),
  target      text NOT NULL,
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz,
  PRIMARY KEY (run_id, kind, target)
);
CREATE UNIQUE INDEX run_targets_one_active ON upshift.run_targets (kind, target) WHERE released_at IS NULL;

CREATE TABLE upshift.steps (
  run_id        text NOT NULL REFERENCES upshift.runs(id) ON DELETE CASCADE,
  kind          text NOT NULL,
  key           text NOT NULL,
  status        text NOT NULL DEFAULT 'pending',
  attempt       integer NOT NULL DEFAULT 0,
  checkpoint    jsonb,
  fencing_token bigint NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  PRIMARY KEY (run_id, kind, key)
);

CREATE TABLE upshift.leases (
  name         text PRIMARY KEY,
  holder       text,
  token        bigint NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);

-- Dedupe per consuming function: the same event may legitimately feed two functions.
CREATE TABLE upshift.inbox (
  consumer    text NOT NULL,
  source      text NOT NULL,
  id          text NOT NULL,
  type        text NOT NULL,
  outputs     text[] NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL DEFAULT now(),
  deliveries  integer NOT NULL DEFAULT 1,
  PRIMARY KEY (consumer, source, id)
);

CREATE TABLE upshift.outbox (
  seq           bigserial PRIMARY KEY,
  source        text NOT NULL,
  id            text NOT NULL,
  type          text NOT NULL,
  topic         text NOT NULL,
  partition_key text,
  event         jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz,
  publish_count integer NOT NULL DEFAULT 0,
  UNIQUE (source, id)
);
CREATE INDEX outbox_pending ON upshift.outbox (seq) WHERE sent_at IS NULL;
`,
  },
  {
    version: 2,
    name: 'outbox rows set aside by the relay',
    sql: `
-- A row the relay can never publish (too large for the broker, not a valid event) is set aside with its
-- reason instead of blocking every row behind it; the relay no longer claims it.
ALTER TABLE upshift.outbox ADD COLUMN failed_at timestamptz, ADD COLUMN failure text;
`,
  },
  {
    version: 3,
    name: 'operator controls of a run and the work held while it is paused',
    sql: `
-- A run's control state, written only by verify (the run's coordinator) when it handles a control:
-- paused (since when, and the time paused before), the throttle for its shards, a wave waiting for a
-- promote, who changed it last and with which control. One row per run that was ever controlled.
CREATE TABLE upshift.run_controls (
  run_id          text PRIMARY KEY REFERENCES upshift.runs(id) ON DELETE CASCADE,
  paused          boolean NOT NULL DEFAULT false,
  paused_at       timestamptz,
  paused_ms       bigint NOT NULL DEFAULT 0,
  throttle        jsonb,
  gate_wave       integer,
  updated_at      timestamptz,
  updated_by      text,
  last_control_id text
);

-- Each control acts once: its id, what came of it, and the answer (the run.control.applied data).
CREATE TABLE upshift.run_control_log (
  control_id  text PRIMARY KEY,
  run_id      text NOT NULL,
  action      text NOT NULL,
  outcome     text NOT NULL,
  answer      jsonb NOT NULL,
  decided_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_control_log_run ON upshift.run_control_log (run_id, decided_at);

-- Forward events emitted while their run is paused: held here instead of the outbox; resume moves them
-- to the outbox (same source and id) in its transaction.
CREATE TABLE upshift.held_events (
  seq           bigserial PRIMARY KEY,
  run_id        text NOT NULL REFERENCES upshift.runs(id) ON DELETE CASCADE,
  source        text NOT NULL,
  id            text NOT NULL,
  type          text NOT NULL,
  topic         text NOT NULL,
  partition_key text,
  event         jsonb NOT NULL,
  held_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, id)
);
CREATE INDEX held_events_run ON upshift.held_events (run_id, seq);
`,
  },
  {
    version: 4,
    name: 'run changes notified for the dashboard',
    sql: `
-- The dashboard's live view: a change to a run, one of its steps, its control state or an event produced
-- for it NOTIFYs channel upshift_run with the run id only (payloads are capped and never replayed;
-- listeners re-read what they show).
-- PostgreSQL folds identical notifications of one transaction into one and delivers them at commit.
CREATE FUNCTION upshift.notify_run_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_run text;
BEGIN
  IF TG_TABLE_NAME = 'runs' THEN
    changed_run := NEW.id;
  ELSIF TG_TABLE_NAME IN ('steps', 'run_controls') THEN
    changed_run := NEW.run_id;
  ELSE
    changed_run := coalesce(NEW.event->'data'->>'runId', split_part(NEW.partition_key, ':', 1));
  END IF;
  IF changed_run IS NOT NULL AND changed_run <> '' AND length(changed_run) <= 63 THEN
    PERFORM pg_notify('upshift_run', changed_run);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_notify_changed AFTER INSERT OR UPDATE ON upshift.runs
  FOR EACH ROW EXECUTE FUNCTION upshift.notify_run_changed();
CREATE TRIGGER steps_notify_changed AFTER INSERT OR UPDATE ON upshift.steps
  FOR EACH ROW EXECUTE FUNCTION upshift.notify_run_changed();
CREATE TRIGGER run_controls_notify_changed AFTER INSERT OR UPDATE ON upshift.run_controls
  FOR EACH ROW EXECUTE FUNCTION upshift.notify_run_changed();
CREATE TRIGGER outbox_notify_changed AFTER INSERT ON upshift.outbox
  FOR EACH ROW EXECUTE FUNCTION upshift.notify_run_changed();
`,
  },
  {
    version: 5,
    name: 'shard tallies: fan-in and progress counted as shards change, never by reading every shard',
    sql: `
-- Per run, kind and migration: kind 'shard' counts the shards migrate-shard planned (shards) and the
-- progress its workers counted in (done, rows, share: a shard's scanned share of its estimate, 1 when
-- finished); kinds 'fanin' and 'restored' count the shards verify recorded final (shards, failed, rows).
-- Each row changes in the transaction that changes the shard, so a fan-in or a progress event reads a
-- handful of rows however many shards the run has.
CREATE TABLE upshift.shard_tallies (
  run_id    text NOT NULL REFERENCES upshift.runs(id) ON DELETE CASCADE,
  kind      text NOT NULL CHECK (kind IN ('shard', 'fanin', 'restored')),
  migration text NOT NULL,
  shards    integer NOT NULL DEFAULT 0,
  failed    integer NOT NULL DEFAULT 0,
  rows      bigint NOT NULL DEFAULT 0,
  done      integer NOT NULL DEFAULT 0,
  share     double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, kind, migration)
);
-- New shard, fan-in and restore steps are counted by a statement trigger (one upsert per statement and
-- migration, whatever inserted them), deleted ones counted out; progress is counted in by migrate-shard
-- with the checkpoint.
-- Runs already under way: tallies from their steps (progress counts finished shards; a shard still
-- running counts its progress in from its next report on). The lock keeps inserts out until the trigger exists.
LOCK TABLE upshift.steps IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO upshift.shard_tallies (run_id, kind, migration, shards, failed, rows, done, share)
SELECT run_id, kind, split_part(key, ':', 2), count(*),
       count(*) FILTER (WHERE status = 'failed'),
       coalesce(sum(CASE
         WHEN kind <> 'shard' AND jsonb_typeof(checkpoint->'rows') = 'number' THEN (checkpoint->>'rows')::numeric::bigint
         WHEN kind = 'shard' AND status IN ('completed', 'failed') AND jsonb_typeof(checkpoint->'checkpoint'->'changed') = 'number'
           THEN (checkpoint->'checkpoint'->>'changed')::numeric::bigint
         ELSE 0 END), 0),
       count(*) FILTER (WHERE kind = 'shard' AND status IN ('completed', 'failed')),
       count(*) FILTER (WHERE kind = 'shard' AND status IN ('completed', 'failed'))
  FROM upshift.steps WHERE kind IN ('shard', 'fanin', 'restored') GROUP BY run_id, kind, split_part(key, ':', 2);

CREATE FUNCTION upshift.tally_new_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO upshift.shard_tallies AS t (run_id, kind, migration, shards, failed, rows)
  SELECT run_id, kind, split_part(key, ':', 2), count(*),
         count(*) FILTER (WHERE kind <> 'shard' AND status = 'failed'),
         coalesce(sum(CASE WHEN kind <> 'shard' AND jsonb_typeof(checkpoint->'rows') = 'number'
                           THEN (checkpoint->>'rows')::numeric::bigint ELSE 0 END), 0)
    FROM inserted WHERE kind IN ('shard', 'fanin', 'restored') GROUP BY 1, 2, 3
  ON CONFLICT (run_id, kind, migration) DO UPDATE
    SET shards = t.shards + EXCLUDED.shards, failed = t.failed + EXCLUDED.failed, rows = t.rows + EXCLUDED.rows;
  RETURN NULL;
END $$;
CREATE TRIGGER steps_tally AFTER INSERT ON upshift.steps REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION upshift.tally_new_steps();
-- A step deleted (a retried shard's fan-in record forgotten) is counted out the same way.
CREATE FUNCTION upshift.untally_deleted_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE upshift.shard_tallies t SET shards = t.shards - d.shards, failed = t.failed - d.failed, rows = t.rows - d.rows
    FROM (SELECT run_id, kind, split_part(key, ':', 2) AS migration, count(*) AS shards,
                 count(*) FILTER (WHERE kind <> 'shard' AND status = 'failed') AS failed,
                 coalesce(sum(CASE WHEN kind <> 'shard' AND jsonb_typeof(checkpoint->'rows') = 'number'
                                   THEN (checkpoint->>'rows')::numeric::bigint ELSE 0 END), 0) AS rows
            FROM deleted WHERE kind IN ('shard', 'fanin', 'restored') GROUP BY 1, 2, 3) d
   WHERE t.run_id = d.run_id AND t.kind = d.kind AND t.migration = d.migration;
  RETURN NULL;
END $$;
CREATE TRIGGER steps_untally AFTER DELETE ON upshift.steps REFERENCING OLD TABLE AS deleted
  FOR EACH STATEMENT EXECUTE FUNCTION upshift.untally_deleted_steps();

-- A run's events (partition key = the run id, or a shard id '<runId>:…'): read by status and watch
-- without scanning the whole outbox, however many runs it holds.
CREATE INDEX outbox_run_events ON upshift.outbox (partition_key text_pattern_ops, seq);
`,
  },
  {
    version: 6,
    name: 'per-store throttle budgets shared by every shard of every run',
    sql: `
-- One row per data store: a virtual clock for the store's rows/s (every batch reserves its rows) and a
-- hold that any shard which saw the store over a limit sets for all of them, with why. Only throttle
-- state: losing it costs a moment of unthrottled pace, nothing else.
CREATE TABLE upshift.store_budgets (
  store       text PRIMARY KEY,
  next_at     timestamptz NOT NULL DEFAULT now(),
  held_until  timestamptz NOT NULL DEFAULT now(),
  held_why    text NOT NULL DEFAULT '',
  updated_at  timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 7,
    name: 'shard progress tallied over 16 rows per migration, so concurrent shards do not queue on one row',
    sql: `
-- Every shard of a migration counted its progress into the same row, holding that row's lock until its
-- transaction committed: the shards of a run queued on it (3 of 8 at a time, measured at 1,000 and
-- 10,000 shards). Progress now goes to one of 16 slots (the shard's index mod 16; readers sum them);
-- planned shards and the fan-in stay in slot 0, where the step triggers count them.
ALTER TABLE upshift.shard_tallies ADD COLUMN slot smallint NOT NULL DEFAULT 0 CHECK (slot >= 0 AND slot < 16);
ALTER TABLE upshift.shard_tallies DROP CONSTRAINT shard_tallies_pkey, ADD PRIMARY KEY (run_id, kind, migration, slot);

CREATE OR REPLACE FUNCTION upshift.tally_new_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO upshift.shard_tallies AS t (run_id, kind, migration, shards, failed, rows)
  SELECT run_id, kind, split_part(key, ':', 2), count(*),
         count(*) FILTER (WHERE kind <> 'shard' AND status = 'failed'),
         coalesce(sum(CASE WHEN kind <> 'shard' AND jsonb_typeof(checkpoint->'rows') = 'number'
                           THEN (checkpoint->>'rows')::numeric::bigint ELSE 0 END), 0)
    FROM inserted WHERE kind IN ('shard', 'fanin', 'restored') GROUP BY 1, 2, 3
  ON CONFLICT (run_id, kind, migration, slot) DO UPDATE
    SET shards = t.shards + EXCLUDED.shards, failed = t.failed + EXCLUDED.failed, rows = t.rows + EXCLUDED.rows;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION upshift.untally_deleted_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE upshift.shard_tallies t SET shards = t.shards - d.shards, failed = t.failed - d.failed, rows = t.rows - d.rows
    FROM (SELECT run_id, kind, split_part(key, ':', 2) AS migration, count(*) AS shards,
                 count(*) FILTER (WHERE kind <> 'shard' AND status = 'failed') AS failed,
                 coalesce(sum(CASE WHEN kind <> 'shard' AND jsonb_typeof(checkpoint->'rows') = 'number'
                                   THEN (checkpoint->>'rows')::numeric::bigint ELSE 0 END), 0) AS rows
            FROM deleted WHERE kind IN ('shard', 'fanin', 'restored') GROUP BY 1, 2, 3) d
   WHERE t.run_id = d.run_id AND t.kind = d.kind AND t.migration = d.migration AND t.slot = 0;
  RETURN NULL;
END $$;
`,
  },
];
