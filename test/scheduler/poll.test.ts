// The poll behind Jira's safety net (src/scheduler/poll.ts): a round slower than
// the interval is never started twice, and stop ends the round and the timer.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startPoll } from '../../src/scheduler/poll.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startPoll', () => {
  it('skips a tick while the previous round is still running', async () => {
    let running = 0;
    let most = 0;
    let rounds = 0;
    const poll = startPoll({
      name: 'test',
      everyMs: 20,
      log: pino({ level: 'silent' }),
      round: async () => {
        rounds++;
        running++;
        most = Math.max(most, running);
        await sleep(150); // several intervals long
        running--;
      },
    });
    await sleep(400);
    await poll.stop();

    expect(most).toBe(1);
    expect(rounds).toBeGreaterThanOrEqual(2);
  });

  it('stop aborts the running round, waits for it, and no round starts after it', async () => {
    let rounds = 0;
    let sawAbort = false;
    const poll = startPoll({
      name: 'test',
      everyMs: 10,
      log: pino({ level: 'silent' }),
      round: async (signal) => {
        rounds++;
        while (!signal.aborted) await sleep(5);
        sawAbort = true;
      },
    });
    await sleep(30);
    await poll.stop();
    const after = rounds;
    await sleep(50);

    expect(sawAbort).toBe(true);
    expect(rounds).toBe(after);
  });
});
