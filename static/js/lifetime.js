// The life of one open room: timers that die with it, so nothing of a closed room runs on.

export class Lifetime {
  constructor() {
    this.closed = false;
    this.timers = new Set();
    this.endings = [];
  }

  /** Run `fn` after `ms`, unless the room has been closed by then. */
  later(fn, ms) {
    const timer = setTimeout(() => { this.timers.delete(timer); if (!this.closed) fn(); }, ms);
    this.timers.add(timer);
  }

  /** Run `fn` when the room closes. */
  onClose(fn) { this.endings.push(fn); }

  close() {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const fn of this.endings) fn();
  }
}
