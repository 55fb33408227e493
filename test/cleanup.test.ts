// The composition root's cleanup stack (src/cleanup.ts): reverse order, and a failing stop does not stop the others.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CleanupStack } from '../src/cleanup.js';

describe('CleanupStack', () => {
  it('stops in reverse order, logs a failing stop with its name and still runs the rest', async () => {
    const logged: { msg: string; step?: string; err?: { message: string } }[] = [];
    const stack = new CleanupStack(pino({ level: 'debug' }, { write: (s: string) => void logged.push(JSON.parse(s)) }));
    const stopped: string[] = [];
    stack.defer('database', async () => void stopped.push('database'));
    stack.defer('http server', async () => {
      throw new Error('socket stuck');
    });
    stack.defer('scheduler', async () => void stopped.push('scheduler'));

    await stack.run();

    expect(stopped).toEqual(['scheduler', 'database']);
    expect(logged.map((l) => [l.msg, l.step])).toEqual([
      ['stopped', 'scheduler'],
      ['error while stopping', 'http server'],
      ['stopped', 'database'],
    ]);
    expect(logged[1]!.err?.message).toBe('socket stuck');
  });

  it('runs each cleanup once, however often stop is called', async () => {
    const stack = new CleanupStack(pino({ level: 'silent' }));
    let n = 0;
    stack.defer('once', async () => void n++);
    await stack.run();
    await stack.run();
    expect(n).toBe(1);
  });
});
