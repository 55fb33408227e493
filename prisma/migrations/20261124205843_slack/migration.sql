-- CreateTable
CREATE TABLE "slack_card" (
    "id" SERIAL NOT NULL,
    "line_id" INTEGER NOT NULL,
    "train_number" INTEGER NOT NULL,
    "channel" TEXT NOT NULL,
    "ts" TEXT,
    "claimed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "slack_card_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slack_user" (
    "email" TEXT NOT NULL,
    "slack_id" TEXT,
    "checked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "slack_user_pkey" PRIMARY KEY ("email")
);

-- CreateIndex
CREATE UNIQUE INDEX "slack_card_line_id_train_number_key" ON "slack_card"("line_id", "train_number");

-- CreateIndex
CREATE UNIQUE INDEX "slack_user_slack_id_key" ON "slack_user"("slack_id");
