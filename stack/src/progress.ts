/** Progress lines on stderr for long stack steps: what runs and how long so far. */
export const progress = {
  /** Prints the step now and every 15 s; call the returned function with the duration when done. */
  start(what: string): (seconds: number) => void {
    const started = Date.now();
    process.stderr.write(`stack: ${what} ...\n`);
    const timer = setInterval(() => {
      process.stderr.write(`stack: ${what} ... ${Math.round((Date.now() - started) / 1000)}s\n`);
    }, 15_000);
    timer.unref();
    return (seconds) => {
      clearInterval(timer);
      process.stderr.write(`stack: ${what} done in ${seconds.toFixed(1)}s\n`);
    };
  },
  info(message: string): void {
    process.stderr.write(`stack: ${message}\n`);
  },
};
