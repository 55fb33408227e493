import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the connection ended without a status line. */
  status: number;
  headers: string;
  body: string;
  /** The connection was reset (ECONNRESET / EPIPE) before an answer was read. */
  reset: boolean;
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket (fetch would
 * normalise the path or refuse it): `target` goes on the request line as is.
 * The body is written in chunks; a write failing after the answer came is not a reset.
 * Like curl, the client reads the answer only once it has written the whole body:
 * a server that closes with the body unread resets the connection, and the answer is lost.
 */
export function rawRequest(port: number, method: string, target: string, opts: { headers?: Record<string, string>; body?: Buffer | string; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const headers = { host: '127.0.0.1', connection: 'close', ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers };
    const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`;
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    let reset = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({
        status: m ? Number(m[1]) : 0,
        headers: split >= 0 ? text.slice(0, split) : text,
        body: split >= 0 ? Buffer.from(text.slice(split + 4), 'latin1').toString('utf8') : '',
        reset: !m && reset,
      });
      socket.destroy();
    };
    const timer = setTimeout(done, opts.timeoutMs ?? 15_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
      done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.write(head, 'latin1');
    if (body) socket.pause();
    if (body) {
      const step = 64 * 1024;
      let at = 0;
      const pump = (): void => {
        while (at < body.length && !socket.destroyed) {
          const ok = socket.write(body.subarray(at, at + step));
          at += step;
          if (!ok) return void socket.once('drain', pump);
        }
        socket.resume();
      };
      pump();
    }
  });
}
