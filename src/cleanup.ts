import type { Logger } from 'pino';

/** Registers how to undo a step that just succeeded; the stack undoes them in reverse order. */
export type Defer = (name: string, fn: () => Promise<void>) => void;

/**
 * The one cleanup stack of the composition root: each step defers its own
 * stop right after it started, so `run()` stops things in the reverse order
 * of starting. A failing stop is logged and the others still run.
 */
export class CleanupStack {
  private readonly steps: { name: string; fn: () => Promise<void> }[] = [];

  constructor(private readonly log: Logger) {}

  readonly defer: Defer = (name, fn) => {
    this.steps.push({ name, fn });
  };

  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.fn();
        this.log.debug({ step: step.name }, 'stopped');
      } catch (err) {
        this.log.error({ err, step: step.name }, 'error while stopping');
      }
    }
  }
}
