// The lifetime of one rendered view: anywidget's `signal` may be absent (older hosts) and the
// cleanup that render() returns must end the view too. Every listener a view adds is tied to
// the signal made here, so ending it removes exactly what the view added.

/** A signal that aborts when the host's `signal` does or when the returned cleanup runs. */
export function viewLifetime(signal?: AbortSignal): { signal: AbortSignal; end: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener("abort", abort, { once: true });
  return {
    signal: controller.signal,
    end: () => {
      signal?.removeEventListener("abort", abort);
      abort();
    },
  };
}
