"""What the test folders share: fake trainers (`support.fakes`), live servers and
free ports (`support.servers`), bounded waits and an SSE reader (`support.waits`),
a run service over a fake trainer (`support.runs`), and a throwaway Postgres
(`support.postgres`). `tests/` is on sys.path through pytest's `pythonpath`
option (pyproject.toml), and spawned workers inherit it, so a worker imports a
fake trainer as `support.fakes:<name>`."""
