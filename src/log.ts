import pino, { type DestinationStream, type Logger } from 'pino';
import { secretEnvPaths } from './config/env.js';

/**
 * The one logger factory. Secrets never reach the log: every field that can
 * hold one (tokens, secrets, passwords, Authorization headers, the secret
 * fields of the validated environment wherever it is logged) is censored.
 */
export const REDACTED = '[redacted]';

export function redactPaths(): string[] {
  return [
    'token', '*.token', 'secret', '*.secret', 'password', '*.password', 'apiToken', '*.apiToken',
    'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'req.headers.authorization',
    'headers.cookie', '*.headers.cookie', 'signingSecret', '*.signingSecret', 'botToken', '*.botToken', 'appToken', '*.appToken',
    'webhookSecret', '*.webhookSecret', 'webhookToken', '*.webhookToken', 'databaseUrl', '*.databaseUrl',
    ...secretEnvPaths(),
    ...secretEnvPaths('env'),
    ...secretEnvPaths('config.env'),
  ];
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactPaths(), censor: REDACTED } };
  return destination ? pino(options, destination) : pino(options);
}
