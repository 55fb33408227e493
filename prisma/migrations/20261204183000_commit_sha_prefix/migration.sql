-- GET /api/search: a SHA prefix (`sha LIKE 'abc1%'`) across every line uses this
-- index whatever the database's collation (text_pattern_ops compares bytes).
CREATE INDEX "commit_sha_prefix_idx" ON "commit"("sha" text_pattern_ops);
