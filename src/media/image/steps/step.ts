import type { Sharp } from "sharp";
import type { RenderPlan } from "../plan.js";

/**
 * One named pipeline step. Steps only record options on the sharp instance (nothing runs
 * until the output step's encoder is asked for bytes), read nothing but the plan, and
 * return the instance for the next step.
 */
export interface Step {
  readonly name: string;
  apply(image: Sharp, plan: RenderPlan): Sharp;
}
