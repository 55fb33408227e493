// Why a connection to PostgreSQL failed, in one sentence a person can act on
// (the driver's own errors say "ECONNREFUSED" or "password authentication
// failed" with a stack trace, and never which setting to look at).

/** `postgres://user:secret@host:5432/db` → `postgres://user:***@host:5432/db` (also a `password` query parameter). */
export function hidePassword(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a value that is not a URL)';
  }
  if (parsed.password !== '') parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  return parsed.toString().replaceAll('%2A%2A%2A', '***');
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** The error's code, or that of the first inner error of an AggregateError (one per address tried). */
function codeOf(error: unknown): string | undefined {
  const e = error as ErrorLike | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string') return e.code;
  if (Array.isArray(e.errors)) return codeOf(e.errors[0]);
  return undefined;
}

function messageOf(error: unknown): string {
  const e = error as ErrorLike | null;
  if (e && typeof e === 'object' && typeof e.message === 'string' && e.message !== '') return e.message;
  if (e && typeof e === 'object' && Array.isArray(e.errors) && e.errors.length > 0) return messageOf(e.errors[0]);
  return String(error);
}

/**
 * One sentence: which URL (password hidden), what went wrong, what to check.
 * `url` is the value of `DATABASE_URL`.
 */
export function describeConnectionProblem(url: string, error: unknown, timeoutMs: number): string {
  let host = '?';
  let port = '5432';
  let user = '';
  let database = '';
  try {
    const u = new URL(url);
    host = u.hostname || 'localhost';
    port = u.port || '5432';
    user = decodeURIComponent(u.username);
    database = decodeURIComponent(u.pathname.slice(1));
  } catch {
    /* validated as a URL before; keep the defaults */
  }
  const code = codeOf(error);
  const message = messageOf(error);
  const what = (() => {
    switch (code) {
      case 'ECONNREFUSED':
        return `nothing accepts connections on ${host} port ${port}; check that PostgreSQL runs there and that the host and port in DATABASE_URL are right`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_NONAME':
        return `the host name "${host}" cannot be resolved; check the host in DATABASE_URL`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `the host ${host} cannot be reached from here; check the host in DATABASE_URL and the network between them`;
      case 'ETIMEDOUT':
        return `${host} port ${port} did not answer in time; check the host and port in DATABASE_URL and any firewall between them`;
      case '28P01':
        return `PostgreSQL refused the password of user "${user}"; check the user and password in DATABASE_URL`;
      case '28000':
        return `PostgreSQL refused the connection (${message}); check the user in DATABASE_URL and the server's pg_hba.conf`;
      case '3D000':
        return `the database "${database}" does not exist on that server; create it, or fix the database name at the end of DATABASE_URL`;
      case '57P03':
        return 'the server is starting up or shutting down; try again in a moment';
      case '53300':
        return 'the server has no connection slot left; check its max_connections and the other clients';
      default:
        break;
    }
    if (/timeout/i.test(message)) {
      return `${host} port ${port} did not answer within ${Math.round(timeoutMs / 1000)} s; check the host and port in DATABASE_URL and any firewall between them`;
    }
    if (/ssl|tls|certificate/i.test(message)) return `the TLS handshake failed (${message}); check the sslmode in DATABASE_URL and the server's certificate`;
    if (/terminated unexpectedly|ECONNRESET/i.test(message) || code === 'ECONNRESET') {
      return `the server closed the connection at once; check that ${host} port ${port} is PostgreSQL and whether it requires TLS (sslmode in DATABASE_URL)`;
    }
    return `the connection failed (${message}); check DATABASE_URL`;
  })();
  return `cannot connect to the database at DATABASE_URL=${hidePassword(url)}: ${what}.`;
}
