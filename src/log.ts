import pino, { type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { type LogFormat, secretEnvPaths } from './config/env.js';

/**
 * The one logger factory. Secrets never reach the log: every field that can
 * hold one (tokens, secrets, passwords, Authorization headers, the secret
 * fields of the validated environment wherever it is logged) is censored.
 */
export const REDACTED = '[redacted]';

export function redactPaths(): string[] {
  return [
    'token',
    '*.token',
    'secret',
    '*.secret',
    'password',
    '*.password',
    'apiToken',
    '*.apiToken',
    'authorization',
    '*.authorization',
    'headers.authorization',
    '*.headers.authorization',
    'req.headers.authorization',
    'headers.cookie',
    '*.headers.cookie',
    'signingSecret',
    '*.signingSecret',
    'botToken',
    '*.botToken',
    'appToken',
    '*.appToken',
    'webhookSecret',
    '*.webhookSecret',
    'webhookToken',
    '*.webhookToken',
    'databaseUrl',
    '*.databaseUrl',
    ...secretEnvPaths(),
    ...secretEnvPaths('env'),
    ...secretEnvPaths('config.env'),
  ];
}

/**
 * `LOG_FORMAT` when set; otherwise pretty for a person at a terminal and JSON
 * for everything else (a pipe, a file, a log collector).
 */
export function logFormatFor(format: LogFormat | undefined, stdoutIsTerminal = process.stdout.isTTY === true): LogFormat {
  return format ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/**
 * `format` 'pretty': one line per entry (local time, level, the component,
 * the message, then the other fields as compact JSON; errors with their stack
 * below). Redaction happens inside pino, before the line reaches the
 * prettifier, so both formats censor the same fields.
 *
 * Without `destination`, lines go to standard output synchronously: pino's
 * default stdout stream writes asynchronously and flushes at exit, and the
 * last lines of a stop ("stopped") were sometimes lost when a write was still
 * in flight at `process.exit`.
 */
export function createLogger(level: string, destination: DestinationStream = stdout(), format: LogFormat = 'json'): Logger {
  const options = { level, redact: { paths: redactPaths(), censor: REDACTED } };
  return pino(options, format === 'pretty' ? prettyDestination(destination) : destination);
}

function stdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/**
 * pino-pretty's formatting function on the logger's own thread, writing
 * synchronously: not its worker-thread transport nor its stream, which hand
 * lines on asynchronously, so a line logged just before `process.exit` could
 * be lost.
 */
function prettyDestination(destination: DestinationStream): DestinationStream {
  const prettify = prettyFactory({
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    singleLine: true,
  });
  return { write: (line: string) => destination.write(prettify(line)) };
}
