-- Runs and their numbered events. Applied once, in order, by app/runs/pg_store.py.
CREATE TABLE runs (
    n BIGSERIAL UNIQUE,                 -- insertion order: a tie-break for created_at
    id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    params JSONB NOT NULL,
    status TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    summary JSONB,
    error TEXT,
    progress JSONB NOT NULL DEFAULT '{}',
    last_seq INTEGER NOT NULL DEFAULT 0,
    heartbeat_at DOUBLE PRECISION,     -- unix seconds; whoever runs it says it lives
    cancel_requested BOOLEAN NOT NULL DEFAULT false,  -- by any replica, for the runner
    runner TEXT                        -- host:pid of the cluster worker that claimed it
);
CREATE INDEX runs_created ON runs (created_at DESC, n DESC);
CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');

CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,              -- the event's JSON, as sent to viewers
    PRIMARY KEY (run_id, seq)
);
