/**
 * Fire-and-forget messages to every process of a deployment (Redis pub/sub at scale), for
 * caches that must drop an entry everywhere at once: a revoked token, say. Delivery is
 * best effort; users keep a fallback (a bounded lifetime of what they cache).
 */
export interface Broadcast {
  publish(topic: string, message: string): Promise<void>;
  /** `onMessage` for every message on `topic`; `onGap` after a reconnect (messages may have been missed). */
  subscribe(topic: string, onMessage: (message: string) => void, onGap?: () => void): Promise<void>;
  close(): Promise<void>;
}
