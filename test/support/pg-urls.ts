// Shared by the global setup (main process) and test/support/database.ts (workers).

/** Migrated once per run by the global setup; each test database is a copy of it. */
export const TEMPLATE_DATABASE = 'conductor_template';

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
