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
];
