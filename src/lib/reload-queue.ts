/**
 * SIGHUP handling shared by `serve` and `watch`: a reload asked while the process is still starting
 * runs once it is up, and reloads run one at a time, in the order asked (two overlapping reloads
 * would apply their configurations in either order). `run` handles its own failures.
 */
export function reloadQueue<Running>(run: (running: Running) => Promise<void>) {
  let running: Running | undefined;
  let askedWhileStarting = false;
  let reloading: Promise<void> = Promise.resolve();
  const ask = () => {
    const target = running;
    if (target === undefined) {
      askedWhileStarting = true;
      return;
    }
    reloading = reloading.then(() => run(target));
  };
  return {
    ask,
    /** The process is up: from now on a reload applies to `r`. */
    started(r: Running) {
      running = r;
      if (askedWhileStarting) ask();
    },
    /** Resolves once every reload asked so far has finished. */
    settled: () => reloading,
  };
}
