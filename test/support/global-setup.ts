// Placeholder: replaced by the database global setup (embedded PostgreSQL).
export default async function setup(): Promise<void> {}
