import type { TerminalOutput } from '../terminal-output.ts';

/**
 * A one-line progress bar on stderr for long ranges (verify). It redraws at most ten times a second and only on a
 * terminal; in pipes and CI logs it stays silent so output stays clean.
 */
export class ProgressBar {
  readonly #out: TerminalOutput;
  readonly #label: string;
  #total: number;
  #done = 0;
  #lastDraw = 0;
  #drawn = false;

  constructor(out: TerminalOutput, label: string, total: number) {
    this.#out = out;
    this.#label = label;
    this.#total = total;
  }

  /** Sets the total when it becomes known. */
  setTotal(total: number): void {
    this.#total = total;
  }

  /** Advances by `count` units and redraws if enough time has passed. */
  advance(count: number): void {
    this.#done += count;
    const now = Date.now();
    if (now - this.#lastDraw >= 100 || this.#done >= this.#total) {
      this.#lastDraw = now;
      this.#draw();
    }
  }

  /** Clears the bar's line. */
  finish(): void {
    if (this.#drawn) this.#out.redrawLine('');
    this.#drawn = false;
  }

  #draw(): void {
    if (!this.#out.interactive) return;
    const width = 30;
    const fraction = this.#total <= 0 ? 1 : Math.min(1, this.#done / this.#total);
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    this.#out.redrawLine(
      `${this.#label} ${bar} ${Math.floor(fraction * 100)}% (${this.#done.toLocaleString('en-US')}/${this.#total.toLocaleString('en-US')})`,
    );
    this.#drawn = true;
  }
}
