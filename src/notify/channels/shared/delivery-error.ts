/**
 * A delivery attempt that did not get the message accepted. `permanent`: the receiver refused it
 * in a way a retry is unlikely to change (a 4xx other than 408/425/429, an SMTP 5xx); the message
 * is then given up after a few attempts instead of blocking its channel for ever.
 */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = 'DeliveryError';
    this.permanent = permanent;
  }
}

/** Rejects with a DeliveryError when `work` takes longer than `ms`; `onTimeout` releases its socket. */
export async function withDeadline<T>(ms: number, work: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DeliveryError(`no answer within ${ms} ms (timeout)`, false));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
