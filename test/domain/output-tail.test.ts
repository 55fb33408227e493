/** What people see of a failed job's output: the tail, cut, redacted (src/domain/output-tail.ts). */
import { describe, expect, it } from 'vitest';
import { codeBlock, outputTail, redactSecrets, TAIL_BUDGET, TAIL_LINE_LENGTH, TAIL_LINES } from '../../src/domain/output-tail.js';
import { ALICE, aCommit, aLine, announcements, dmsTo, ok, Sim } from '../support/domain-builders.js';

describe('redactSecrets', () => {
  it.each([
    ['SLACK_BOT_TOKEN=xoxb-1234-5678-abcdefgh', 'SLACK_BOT_TOKEN=[redacted]'],
    ['token xoxp-1111-2222-3333-abcdef in use', 'token [redacted] in use'],
    ['clone with ghp_abcdefghijklmnop1234 failed', 'clone with [redacted] failed'],
    ['curl -H "Authorization: Bearer eyJhbGciOi.abc.def"', 'curl -H "Authorization: Bearer [redacted]"'],
    ['mysql --password=hunter22 -u root', 'mysql --password=[redacted] -u root'],
    ['PASSWORD: "s3cr3t!"', 'PASSWORD: "[redacted]"'],
    ['api_key=AKIA0000 next', 'api_key=[redacted] next'],
    ['fetch https://deploy:pa55w0rd@git.example.com/repo.git', 'fetch https://deploy:[redacted]@git.example.com/repo.git'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('replaces the secret values it is given, wherever they appear, and leaves ordinary words alone', () => {
    const secrets = ['SECRET-jenkins-0005', 'abc'];
    expect(redactSecrets('user conductor:SECRET-jenkins-0005 at abc', secrets)).toBe('user conductor:[redacted] at abc');
    expect(redactSecrets('npm test: 3 tokens parsed, 2 passed')).toBe('npm test: 3 tokens parsed, 2 passed');
  });
});

describe('outputTail', () => {
  it('is null when there is no output', () => {
    expect(outputTail(null)).toBeNull();
    expect(outputTail('')).toBeNull();
    expect(outputTail('\n \n')).toBeNull();
  });

  it('keeps the last 20 non-empty lines, each cut to a sane length', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`);
    lines.push('x'.repeat(1000), '', '   ');
    const tail = outputTail(lines.join('\r\n'))!;
    const shown = tail.split('\n');
    expect(shown).toHaveLength(TAIL_LINES);
    expect(shown[0]).toBe('line 32');
    expect(shown[TAIL_LINES - 1]).toBe(`${'x'.repeat(TAIL_LINE_LENGTH - 1)}…`);
  });

  it('stays within its budget, drops colour codes, and cannot close the code block it is shown in', () => {
    const tail = outputTail(Array.from({ length: 30 }, () => 'y'.repeat(500)).join('\n'))!;
    expect(tail.length).toBeLessThanOrEqual(TAIL_BUDGET);
    expect(outputTail('\x1b[31mError:\x1b[0m ``` broken')).toBe("Error: ''' broken");
    expect(codeBlock('boom')).toBe('\n```\nboom\n```');
    expect(codeBlock(null)).toBe('');
  });
});

describe('a failed job is told with its reason', () => {
  it('the channel and the engineer read the last lines of the output, secrets redacted', () => {
    const sim = new Sim(aLine());
    ok(sim.push(aCommit('a1', ALICE)));
    const output = ['npm ci', 'npm test', 'using token xoxb-9999-8888-zzzzzzzz', 'FAIL test/app.test.ts', 'Error: expected 2 to be 3'].join('\n');
    const d = ok(sim.finishJob(1, 'build', false, { output }));
    const tail = '\nThe last lines of its output:\n```\nnpm ci\nnpm test\nusing token [redacted]\nFAIL test/app.test.ts\nError: expected 2 to be 3\n```';
    expect(announcements(d)).toEqual([`${ALICE}: the build of train #1 failed (https://ci.test/build/1/1). Retry it, or revert the bad commit and extend, or derail.${tail}`]);
    expect(dmsTo(d, ALICE).map((e) => e.text)).toEqual([`The build of train #1 failed (https://ci.test/build/1/1). Retry it, or revert the bad commit and extend, or derail.${tail}`]);
  });
});
