import { type Logger, pino } from 'pino';

export interface LogEntry {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A pino logger that keeps its entries for assertions. */
export function captureLog(): { log: Logger; entries: LogEntry[]; messages(level?: number): string[] } {
  const entries: LogEntry[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void entries.push(JSON.parse(line) as LogEntry) });
  return {
    log,
    entries,
    messages: (level = 0) => entries.filter((e) => e.level >= level && e.msg).map((e) => e.msg as string),
  };
}

export const WARN = 40;
export const ERROR = 50;
