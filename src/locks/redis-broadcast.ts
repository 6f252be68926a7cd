import { Redis } from "ioredis";
import type { Broadcast } from "../ports/broadcast.js";
import { silentLogger, type Logger } from "../ports/logger.js";

/**
 * `Broadcast` over Redis pub/sub: one connection publishes, one subscribes (a subscribed
 * connection can do nothing else). Channels are `<prefix>:<topic>`. After the subscriber
 * reconnects, `onGap` tells each topic's listener that messages may have been lost.
 */
export function createRedisBroadcast(url: string, options: { prefix: string; logger?: Logger }): Broadcast {
  const logger = options.logger ?? silentLogger;
  const publisher = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscriber = new Redis(url, { lazyConnect: false });
  const listeners = new Map<string, { onMessage: (message: string) => void; onGap?: () => void }>();
  const channel = (topic: string) => `${options.prefix}:${topic}`;
  let connectedOnce = false;

  publisher.on("error", (error) => logger.warn({ err: error }, "broadcast: publisher error"));
  subscriber.on("error", (error) => logger.warn({ err: error }, "broadcast: subscriber error"));
  subscriber.on("ready", () => {
    if (connectedOnce) for (const listener of listeners.values()) listener.onGap?.();
    connectedOnce = true;
  });
  subscriber.on("message", (name: string, message: string) => {
    for (const [topic, listener] of listeners) if (channel(topic) === name) listener.onMessage(message);
  });

  return {
    async publish(topic, message) {
      await publisher.publish(channel(topic), message);
    },
    async subscribe(topic, onMessage, onGap) {
      listeners.set(topic, { onMessage, ...(onGap ? { onGap } : {}) });
      await subscriber.subscribe(channel(topic));
    },
    async close() {
      await Promise.all([
        publisher.quit().catch(() => publisher.disconnect()),
        subscriber.quit().catch(() => subscriber.disconnect()),
      ]);
    },
  };
}
