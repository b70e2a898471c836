// The bound on waiting for an audio parser (music-metadata, busboy) after the upload ended: a
// parser still busy then is abandoned and the measurement is undefined (the provider's report bills).

/** A parser still busy this long after the upload ended is abandoned. */
export const PARSE_TIMEOUT_MS = 10_000;

/** Resolves to `p`'s value, or undefined when `p` rejects or `ms` pass first. Never rejects. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}
