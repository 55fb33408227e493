-- Insights (GET /insights, GET /api/lines/<line>/insights): the read model
-- (src/engine/read/insights.ts) reads a period of a line's history. With a
-- year of a busy line (500,000 commits, 18,000 trains) these keep it to
-- index range scans instead of whole-table scans.

-- Trains by when they started and when they reached production.
CREATE INDEX "train_line_id_created_at_idx" ON "train"("line_id", "created_at");
CREATE INDEX "train_line_id_deployed_at_idx" ON "train"("line_id", "deployed_at");

-- Lead time: the commits a train deployed, with when Conductor first saw them (index-only).
CREATE INDEX "commit_train_id_first_seen_at_idx" ON "commit"("train_id", "first_seen_at");

-- Platform length: the newest commit seen by a moment (positions grow with first_seen_at).
CREATE INDEX "commit_line_id_first_seen_at_position_idx" ON "commit"("line_id", "first_seen_at", "position");

-- Failure signals and restores: rare actions among many audit entries.
CREATE INDEX "audit_entry_line_id_action_created_at_idx" ON "audit_entry"("line_id", "action", "created_at");
