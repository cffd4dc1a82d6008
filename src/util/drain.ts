import type { ServerResponse } from 'node:http';

/** Waits until a response can take more, or is gone: a wait for 'drain' alone never ends after a close. */
export function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
