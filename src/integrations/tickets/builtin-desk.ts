import type { TicketDesk } from '../../engine/ports/ticket-desk.js';

/** Built-in tickets live in Conductor's own database: there is nothing to mirror elsewhere. */
export function createBuiltinDesk(): TicketDesk {
  return {
    async open() {
      return [];
    },
    async setDone() {},
    async states() {
      return [];
    },
  };
}
