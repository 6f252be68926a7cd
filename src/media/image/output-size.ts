/** The rule lives in the domain: the transformation graph sizes derived renders with it too. */
export { resizedSize, type ResizeRequest, type Size } from "../../domain/resize-size.js";
