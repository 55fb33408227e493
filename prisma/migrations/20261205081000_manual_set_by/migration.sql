-- Push warnings (behaviour.md §8): who put the line in manual mode (an admin's
-- `mode manual` or emergency reset), shown with the reason. Null in schedule
-- mode, and when the config file seeded the line in manual mode.
ALTER TABLE "line" ADD COLUMN "manual_set_by" TEXT;
