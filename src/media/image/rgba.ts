/** sharp's colour object; alpha 0..1. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly alpha: number;
}

export const WHITE: Rgba = { r: 255, g: 255, b: 255, alpha: 1 };
export const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };

/** The recipe's `bg`: 6 or 8 lower-case hex digits, already validated by the recipe parser. */
export function fromHex(hex: string): Rgba {
  const byte = (i: number) => parseInt(hex.slice(i, i + 2), 16);
  const alpha = hex.length === 8 ? Math.round((byte(6) / 255) * 1000) / 1000 : 1;
  return { r: byte(0), g: byte(2), b: byte(4), alpha };
}

export function opaque(colour: Rgba): Rgba {
  return { ...colour, alpha: 1 };
}
