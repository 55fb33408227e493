-- Health-gated deploys (behaviour.md §8): a deployed train is watched by the
-- line's health check for the soak; every result is kept; a trip blocks the
-- line (every train created until `unblock`).

-- The line's block after a trip ("health check failed on train #N: …").
ALTER TABLE "line" ADD COLUMN "health_block" TEXT;

-- The watch of a deployed train: state, consecutive failures, its window, the last outcome.
ALTER TABLE "train" ADD COLUMN "health_state" TEXT;
ALTER TABLE "train" ADD COLUMN "health_failures" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "train" ADD COLUMN "health_since" TIMESTAMPTZ(3);
ALTER TABLE "train" ADD COLUMN "health_until" TIMESTAMPTZ(3);
ALTER TABLE "train" ADD COLUMN "health_last" TEXT;

-- The scheduler finds the watched trains of every line.
CREATE INDEX "train_health_state_idx" ON "train"("health_state") WHERE "health_state" = 'watching';

-- Every check result: healthy, failed or unknown, with the value or the exit code and a message.
CREATE TABLE "health_check" (
    "id" SERIAL NOT NULL,
    "line_id" INTEGER NOT NULL,
    "train_id" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "value" DOUBLE PRECISION,
    "exit_code" INTEGER,
    "message" TEXT NOT NULL,
    "checked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "health_check_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "health_check_train_id_checked_at_idx" ON "health_check"("train_id", "checked_at");

ALTER TABLE "health_check" ADD CONSTRAINT "health_check_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "line"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "health_check" ADD CONSTRAINT "health_check_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "train"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
