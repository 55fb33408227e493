-- Culprit finding (behaviour.md §8): the search's builds are jobs of their own kind,
-- and the search itself (state, bounds, builds, culprit or flaky range) is kept on its train.
ALTER TYPE "JobKind" ADD VALUE IF NOT EXISTS 'bisect';

ALTER TABLE "train" ADD COLUMN "bisect" JSONB;
