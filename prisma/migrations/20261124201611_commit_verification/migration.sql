-- AlterTable
ALTER TABLE "commit" ADD COLUMN     "verified_at" TIMESTAMPTZ(3),
ADD COLUMN     "verified_by" TEXT;
