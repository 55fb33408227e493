import type { PrismaClient } from '../generated/prisma/client.js';

/** Reads outside the engine's transactions (the engine's own run on src/store/sql.ts). */
export type Db = PrismaClient;
