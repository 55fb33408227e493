-- Live updates (GET /events): every committed change to a line is announced with
-- pg_notify('conductor_change', {"id", "line", "train"}) in its own transaction.
-- The ids come from this sequence so that they are unique and increasing across
-- every Conductor process sharing the database (a browser's Last-Event-ID means
-- the same event whichever process it reconnects to). A plain sequence, used by
-- raw SQL only (src/engine/notify.ts): the Prisma schema has no model for it.
CREATE SEQUENCE "change_event_id_seq" AS BIGINT;
