import { randomUUID } from "node:crypto";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { PassRepo } from "../ports/scheduler.js";

/** One maintenance pass: a name, how often it runs, and the run itself (idempotent, safe to kill). */
export interface ScheduledPass {
  name: string;
  /** 0: never on the schedule (on demand only). */
  intervalMs: number;
  run: () => Promise<unknown>;
}

export interface SchedulerDeps {
  passes: PassRepo;
  clock: Clock;
  logger: Logger;
  /** How long a lease lasts without renewal; a killed runner's pass is free again after it. */
  leaseMs?: number;
  /** How often each worker looks whether a pass is due. */
  tickMs?: number;
  /** Told after every scheduled run. */
  onFinished?: (name: string, outcome: "ok" | "failed", seconds: number) => void;
}

/**
 * Runs every pass on its interval in the worker role, once across the deployment: a
 * worker runs a pass only after taking its lease in the database (ports/scheduler.ts),
 * renews it while the pass runs and records the outcome. A runner that dies holds the
 * lease until it expires; then another worker runs the pass, which starts over safely.
 */
export function createScheduler(deps: SchedulerDeps) {
  const holder = randomUUID();
  const leaseMs = deps.leaseMs ?? 5 * 60_000;
  const tickMs = deps.tickMs ?? 15_000;
  const passes: ScheduledPass[] = [];
  const running = new Map<string, Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;

  async function runLeased(pass: ScheduledPass, force: boolean): Promise<{ ran: boolean; report?: unknown }> {
    const now = deps.clock.now();
    if (!(await deps.passes.tryStart(pass.name, holder, now, pass.intervalMs, now + leaseMs, force))) return { ran: false };
    const renew = setInterval(() => {
      deps.passes.renew(pass.name, holder, deps.clock.now() + leaseMs).catch(() => {});
    }, Math.max(1000, leaseMs / 3));
    renew.unref();
    const started = deps.clock.now();
    try {
      const report = await pass.run();
      await deps.passes.finish(pass.name, holder, deps.clock.now(), "ok", report);
      deps.onFinished?.(pass.name, "ok", (deps.clock.now() - started) / 1000);
      return { ran: true, report };
    } catch (error) {
      deps.logger.warn({ err: error, pass: pass.name }, "maintenance pass failed");
      await deps.passes.finish(pass.name, holder, deps.clock.now(), "failed", { error: error instanceof Error ? error.message : String(error) }).catch(() => {});
      deps.onFinished?.(pass.name, "failed", (deps.clock.now() - started) / 1000);
      throw error;
    } finally {
      clearInterval(renew);
    }
  }

  function tick(): void {
    for (const pass of passes) {
      if (pass.intervalMs <= 0 || running.has(pass.name)) continue;
      const run = runLeased(pass, false).catch(() => undefined).finally(() => running.delete(pass.name));
      running.set(pass.name, run);
    }
  }

  return {
    holder,
    add(pass: ScheduledPass): void {
      passes.push(pass);
    },
    start(): void {
      if (timer || passes.every((p) => p.intervalMs <= 0)) return;
      timer = setInterval(tick, tickMs);
      timer.unref();
      setImmediate(tick);
    },
    /** Waits for passes in flight (they are idempotent: stopping mid-way is also safe). */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...running.values()]);
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
