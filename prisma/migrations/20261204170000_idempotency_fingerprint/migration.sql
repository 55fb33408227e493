-- AlterTable: what an idempotency key was first used for (sha-256 hex of the request), so that the
-- same key with another request is refused (422) instead of replaying the first answer.
ALTER TABLE "processed_input" ADD COLUMN "fingerprint" TEXT;
