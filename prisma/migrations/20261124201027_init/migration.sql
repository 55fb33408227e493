-- CreateEnum
CREATE TYPE "LineMode" AS ENUM ('schedule', 'manual');

-- CreateEnum
CREATE TYPE "CommitState" AS ENUM ('platform', 'train', 'deployed', 'removed');

-- CreateEnum
CREATE TYPE "TrainState" AS ENUM ('delivering', 'verifying', 'deploying', 'deployed', 'derailed');

-- CreateEnum
CREATE TYPE "TicketState" AS ENUM ('pending', 'verified');

-- CreateEnum
CREATE TYPE "JobKind" AS ENUM ('build', 'deploy', 'rollback');

-- CreateEnum
CREATE TYPE "JobState" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "line" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "repo" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "mode" "LineMode" NOT NULL,
    "auto_time" JSONB NOT NULL,
    "freezes" JSONB NOT NULL,
    "timezone" TEXT NOT NULL,
    "deployed_sha" TEXT NOT NULL,
    "known_head_sha" TEXT NOT NULL,
    "manual_reason" TEXT,
    "next_train_number" INTEGER NOT NULL DEFAULT 1,
    "commit_seq" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "line_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "commit" (
    "id" SERIAL NOT NULL,
    "line_id" INTEGER NOT NULL,
    "sha" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "author_name" TEXT NOT NULL,
    "author_email" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "state" "CommitState" NOT NULL DEFAULT 'platform',
    "train_id" INTEGER,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "commit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "train" (
    "id" SERIAL NOT NULL,
    "line_id" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "state" "TrainState" NOT NULL,
    "head_sha" TEXT NOT NULL,
    "base_sha" TEXT NOT NULL,
    "engineer_email" TEXT,
    "blocked_reason" TEXT,
    "derail_reason" TEXT,
    "replaces_train_id" INTEGER,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "delivered_at" TIMESTAMPTZ(3),
    "verified_at" TIMESTAMPTZ(3),
    "deploy_started_at" TIMESTAMPTZ(3),
    "deployed_at" TIMESTAMPTZ(3),
    "derailed_at" TIMESTAMPTZ(3),

    CONSTRAINT "train_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "train_commit" (
    "train_id" INTEGER NOT NULL,
    "commit_id" INTEGER NOT NULL,

    CONSTRAINT "train_commit_pkey" PRIMARY KEY ("train_id","commit_id")
);

-- CreateTable
CREATE TABLE "ticket" (
    "id" SERIAL NOT NULL,
    "line_id" INTEGER NOT NULL,
    "train_id" INTEGER NOT NULL,
    "author_email" TEXT NOT NULL,
    "author_name" TEXT NOT NULL,
    "state" "TicketState" NOT NULL,
    "commit_shas" JSONB NOT NULL,
    "verified_by" TEXT,
    "verified_at" TIMESTAMPTZ(3),
    "external_key" TEXT,
    "external_url" TEXT,
    "requested_at" TIMESTAMPTZ(3),
    "reminded_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ticket_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job" (
    "id" SERIAL NOT NULL,
    "train_id" INTEGER NOT NULL,
    "kind" "JobKind" NOT NULL,
    "state" "JobState" NOT NULL,
    "attempt" INTEGER NOT NULL,
    "sha" TEXT NOT NULL,
    "external_id" TEXT,
    "url" TEXT,
    "output" TEXT,
    "requested_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "timeout_at" TIMESTAMPTZ(3),

    CONSTRAINT "job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_entry" (
    "id" BIGSERIAL NOT NULL,
    "line_id" INTEGER NOT NULL,
    "train_id" INTEGER,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "details" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_item" (
    "id" BIGSERIAL NOT NULL,
    "line_id" INTEGER,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3),
    "done_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "processed_input" (
    "key" TEXT NOT NULL,
    "line_id" INTEGER,
    "reply" JSONB,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_input_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "line_name_key" ON "line"("name");

-- CreateIndex
CREATE INDEX "commit_line_id_state_position_idx" ON "commit"("line_id", "state", "position");

-- CreateIndex
CREATE UNIQUE INDEX "commit_line_id_sha_key" ON "commit"("line_id", "sha");

-- CreateIndex
CREATE UNIQUE INDEX "train_replaces_train_id_key" ON "train"("replaces_train_id");

-- CreateIndex
CREATE INDEX "train_line_id_state_idx" ON "train"("line_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "train_line_id_number_key" ON "train"("line_id", "number");

-- CreateIndex
CREATE INDEX "train_commit_commit_id_idx" ON "train_commit"("commit_id");

-- CreateIndex
CREATE INDEX "ticket_line_id_state_idx" ON "ticket"("line_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "ticket_train_id_author_email_key" ON "ticket"("train_id", "author_email");

-- CreateIndex
CREATE INDEX "job_state_timeout_at_idx" ON "job"("state", "timeout_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_train_id_kind_attempt_key" ON "job"("train_id", "kind", "attempt");

-- CreateIndex
CREATE INDEX "audit_entry_line_id_id_idx" ON "audit_entry"("line_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_item_idempotency_key_key" ON "outbox_item"("idempotency_key");

-- CreateIndex
CREATE INDEX "outbox_item_done_at_next_attempt_at_idx" ON "outbox_item"("done_at", "next_attempt_at");

-- AddForeignKey
ALTER TABLE "commit" ADD CONSTRAINT "commit_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "line"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "commit" ADD CONSTRAINT "commit_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "train"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "train" ADD CONSTRAINT "train_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "line"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "train" ADD CONSTRAINT "train_replaces_train_id_fkey" FOREIGN KEY ("replaces_train_id") REFERENCES "train"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "train_commit" ADD CONSTRAINT "train_commit_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "train"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "train_commit" ADD CONSTRAINT "train_commit_commit_id_fkey" FOREIGN KEY ("commit_id") REFERENCES "commit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "line"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "train"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job" ADD CONSTRAINT "job_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "train"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_entry" ADD CONSTRAINT "audit_entry_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "line"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_entry" ADD CONSTRAINT "audit_entry_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "train"("id") ON DELETE SET NULL ON UPDATE CASCADE;
