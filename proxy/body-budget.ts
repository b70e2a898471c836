// The per-process budget of request-body bytes held before their reservation
// (proxy.maxBufferedBytes): what slow or huge bodies can make one process hold before anyone is
// charged. A request that would pass it gets 503 server_busy with Retry-After; nothing is forwarded.

export interface BodyBudget {
  /** Takes `n` bytes if they fit; false (nothing taken) if not. */
  take(n: number): boolean;
  give(n: number): void;
  /** Bytes held now. */
  held(): number;
  readonly max: number;
}

/** What a request holds of the budget; the pipeline gives it back when the request is forwarded or refused. */
export interface BodyHold {
  bytes: number;
}

export function createBodyBudget(max: number): BodyBudget {
  let held = 0;
  return {
    max,
    take(n) {
      if (held + n > max) return false;
      held += n;
      return true;
    },
    give(n) {
      held -= n;
    },
    held: () => held,
  };
}
