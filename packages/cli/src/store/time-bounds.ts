/**
 * The earliest and latest instants the CLI passes when a command means "all time". The store keeps span times
 * as DateTime64(9), which ends in April 2262; a later bound overflows the comparison on the engine.
 */
export const BEGINNING_OF_TIME = new Date(0);
export const END_OF_TIME = new Date(Date.UTC(2262, 0, 1));
