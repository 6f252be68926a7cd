import { createMemoryLocks, createMemorySingleFlight } from "../../src/locks/memory.js";
import { locksContract, singleFlightContract } from "../contract/locks.contract.js";

const noop = async () => {};

locksContract("memory", async () => ({ subject: createMemoryLocks(), close: noop }));
singleFlightContract("memory", async () => ({ subject: createMemorySingleFlight(), close: noop }));
