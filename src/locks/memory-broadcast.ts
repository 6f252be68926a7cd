import type { Broadcast } from "../ports/broadcast.js";

/**
 * `Broadcast` within one process, for the embedded default: every subscriber of a topic in
 * this process gets each message at once. There is nothing to reconnect, so no gaps.
 */
export function createMemoryBroadcast(): Broadcast {
  const listeners = new Map<string, Array<(message: string) => void>>();
  return {
    async publish(topic, message) {
      for (const onMessage of listeners.get(topic) ?? []) onMessage(message);
    },
    async subscribe(topic, onMessage) {
      listeners.set(topic, [...(listeners.get(topic) ?? []), onMessage]);
    },
    async close() {
      listeners.clear();
    },
  };
}
