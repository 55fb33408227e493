/**
 * What people are shown of a job's output: its last lines, each cut to a sane
 * length, with anything that looks like a secret replaced. Pure functions: the
 * engine passes the secret values it knows (the environment's tokens) when it
 * records a job's output; the patterns below catch the rest wherever the tail
 * is shown.
 */

export const REDACTED_MARK = '[redacted]';

/** Lines of a failed job's output shown to people. */
export const TAIL_LINES = 20;
/** Characters kept of one output line. */
export const TAIL_LINE_LENGTH = 160;
/** Characters of the whole tail: it must fit in one Slack section (3000) beside the sentence around it. */
export const TAIL_BUDGET = 2000;

/**
 * Token-like things people paste into build logs. Each pattern's first group
 * (when there is one) is kept, so `password=hunter2` reads `password=[redacted]`.
 */
const PATTERNS: RegExp[] = [
  // Slack tokens: bot, user, app-level, refresh, config.
  /\bxox[abposr]-[A-Za-z0-9-]{6,}/g,
  /\bxapp-[A-Za-z0-9-]{6,}/g,
  // GitHub tokens: classic and fine-grained.
  /\bgh[pousr]_[A-Za-z0-9]{16,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  // Authorization headers.
  /(\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  // key=value and key: value for the usual secret names.
  /(\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey)["']?\s*[=:]\s*["']?)[^\s"'&,;]+/gi,
  // Credentials in URLs: scheme://user:password@host.
  /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+(?=@)/gi,
];

/**
 * Replaces the given secret values (ignoring ones too short to be secrets:
 * replacing "a" would wreck the text) and the token-like patterns.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  const values = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= 6))].sort((a, b) => b.length - a.length);
  for (const v of values) out = out.split(v).join(REDACTED_MARK);
  for (const p of PATTERNS) out = out.replace(p, (_m: string, keep?: unknown) => `${typeof keep === 'string' ? keep : ''}${REDACTED_MARK}`);
  return out;
}

/**
 * The tail of a job's output as people see it: the last `TAIL_LINES` non-empty
 * lines, each cut to `TAIL_LINE_LENGTH`, redacted, within `TAIL_BUDGET`
 * characters (the oldest lines go first). Null when there is nothing to show.
 */
export function outputTail(output: string | null | undefined, secrets: readonly string[] = []): string | null {
  if (!output) return null;
  const lines = redactSecrets(output.replace(/\r\n?/g, '\n'), secrets)
    .split('\n')
    // Control characters (ANSI colours, NUL) read as noise in Slack and JSON alike.
    // eslint-disable-next-line no-control-regex
    .map((l) =>
      l
        .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
        .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
        .trimEnd(),
    )
    .filter((l) => l.trim() !== '')
    .slice(-TAIL_LINES)
    .map(cutLine);
  while (lines.length > 1 && lines.join('\n').length > TAIL_BUDGET) lines.shift();
  const tail = lines.join('\n');
  if (!tail) return null;
  // A code fence inside the output would end the block it is shown in.
  return tail.replace(/```/g, "'''");
}

function cutLine(line: string): string {
  if (line.length <= TAIL_LINE_LENGTH) return line;
  let cut = line.slice(0, TAIL_LINE_LENGTH - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // never half a surrogate pair
  return `${cut}…`;
}

/** The tail as a Slack code block on its own lines, or '' when there is none. */
export function codeBlock(tail: string | null): string {
  return tail ? `\n\`\`\`\n${tail}\n\`\`\`` : '';
}

/**
 * A running job's output as the Web App shows it while it runs: redacted like
 * the tail, without terminal colour codes and control characters, but whole
 * (the runner already cut it to its last bytes).
 */
export function liveOutputText(output: string, secrets: readonly string[] = []): string {
  // eslint-disable-next-line no-control-regex
  return redactSecrets(output.replace(/\r\n?/g, '\n'), secrets)
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}
