-- CreateIndex
CREATE INDEX "ticket_external_key_idx" ON "ticket"("external_key");
