import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate, and migrate when authoring migrations).
// The application applies migrations itself at start-up (src/store/migrate.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/conductor' },
});
