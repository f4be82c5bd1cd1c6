-- What the Postgres store has had from the start, so that both stores implement the
-- whole RunStore: who runs a run and when it last said so, and a cancel flag.
ALTER TABLE runs ADD COLUMN heartbeat_at REAL;
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN runner TEXT;
