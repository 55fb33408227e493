-- SPEC §9: a job whose outcome nobody can tell (its Conductor died while it ran).
ALTER TYPE "JobState" ADD VALUE 'unknown';

-- SPEC §9: what production runs, through deploys and rollbacks.
ALTER TABLE "line" ADD COLUMN "production_train" INTEGER,
ADD COLUMN "production_sha" TEXT,
ADD COLUMN "production_since" TIMESTAMPTZ(3),
ADD COLUMN "production_by" TEXT,
ADD COLUMN "production_rolled_back_from" INTEGER;

-- Lines that deployed before this column existed: production runs their last deployed train.
UPDATE "line" l SET
  "production_train" = t."number",
  "production_sha" = t."head_sha",
  "production_since" = COALESCE(t."deployed_at", t."created_at"),
  "production_by" = COALESCE((SELECT j."requested_by" FROM "job" j WHERE j."train_id" = t."id" AND j."kind" = 'deploy' ORDER BY j."attempt" DESC LIMIT 1), t."created_by")
FROM (
  SELECT DISTINCT ON ("line_id") * FROM "train" WHERE "state" = 'deployed' ORDER BY "line_id", "number" DESC
) t
WHERE t."line_id" = l."id";
