-- Pinned runs, kept by retention: 'reader' (API, the run page) or 'methods' (the
-- live row of /methods).
ALTER TABLE runs ADD COLUMN pinned TEXT;
