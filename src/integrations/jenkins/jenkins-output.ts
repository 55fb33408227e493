/** A job's output: `Jenkins <RESULT>: <url>` and the tail of the console log, within a byte budget. */

/** The head line, then as much of the log's tail as fits in `max` bytes. */
export function compose(head: string, logText: string, max: number): string {
  const headBytes = Buffer.byteLength(head);
  if (!logText) return truncateTail(head, max);
  const room = max - headBytes - 1;
  if (room <= 0) return truncateTail(head, max);
  const buf = Buffer.from(logText, 'utf8');
  if (buf.length <= room) return `${head}\n${logText}`;
  const marker = `[… ${buf.length - room} bytes of the console log dropped …]\n`;
  const keep = Math.max(0, room - Buffer.byteLength(marker));
  const tail = buf
    .subarray(buf.length - keep)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
  return `${head}\n${marker}${tail}`;
}

function truncateTail(s: string, max: number): string {
  const buf = Buffer.from(s, 'utf8');
  return buf.length <= max ? s : buf.subarray(0, max).toString('utf8');
}
