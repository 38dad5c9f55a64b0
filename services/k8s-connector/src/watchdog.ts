/**
 * A watchdog for a watch stream: client-node's watch has no idle timeout, so a stream that goes
 * silent (no event and no bookmark) would otherwise be trusted forever. Time comes from an injected
 * clock, so tests move it instead of sleeping.
 */
import type { Clock } from "@fedview/sync";

/** Fires `onSilent` once when `touch()` was not called for `timeoutMs`; stop it with `dispose()`. */
export class Watchdog implements Disposable {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #onSilent: () => void;
  readonly #stop = new AbortController();
  #last: number;

  constructor(clock: Clock, timeoutMs: number, onSilent: () => void) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    this.#onSilent = onSilent;
    this.#last = clock.now();
    void this.#run();
  }

  /** Records activity: an event or a bookmark arrived. */
  touch(): void {
    this.#last = this.#clock.now();
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const idle = this.#clock.now() - this.#last;
      if (idle >= this.#timeoutMs) {
        this.#onSilent();
        return;
      }
      await this.#clock.sleep(this.#timeoutMs - idle, stop);
    }
  }

  [Symbol.dispose](): void {
    this.#stop.abort();
  }
}
