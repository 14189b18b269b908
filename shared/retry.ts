/**
 * The start-up retry loop both services use (connect to Kafka, migrate PostgreSQL): capped
 * exponential backoff with jitter, cut short by a stop, and a slow retry with an error line in
 * plain words when the failure is a wrong setting.
 *
 * @module
 */

import { backoffDelay, type BackoffPolicy, CONNECT_BACKOFF } from "./backoff.ts";
import type { KafkaSettingFailure } from "./kafka_security.ts";
import type { Logger } from "./log.ts";

/** How often a failure caused by a setting is retried: only a person, or a rotated Secret, fixes it. */
export const SETTING_RETRY_MS = 30_000;

/** What {@linkcode retryUntilStopped} needs besides the action. */
export interface RetryOptions {
  /** What is tried, for the log line (`<what> failed; retrying`). */
  what: string;
  /** Logger. */
  log: Logger;
  /** Settles when the service is stopping: the loop ends, and a wait is cut short. */
  stopped: Promise<unknown>;
  /**
   * Whether the service is stopping, read before each attempt. A promise's settling is seen only a
   * turn later, and an attempt started in between (a Kafka connection) can take many seconds.
   */
  isStopped?: () => boolean;
  /** Recognises a failure caused by a setting (wrong password, missing ACL, untrusted CA). */
  explain?: (error: unknown) => KafkaSettingFailure | undefined;
  /** Delays of other failures; {@linkcode CONNECT_BACKOFF} by default. */
  backoff?: BackoffPolicy;
  /** Delay after a setting failure; {@linkcode SETTING_RETRY_MS} by default. */
  settingRetryMs?: number;
}

/**
 * Runs `action` until it succeeds or the service stops. A failure `explain` recognises is logged
 * as an error in its words and retried every `settingRetryMs`: the process stays up and not
 * ready instead of crash-looping. Any other failure is a warning, retried with backoff.
 *
 * @returns `true` once `action` succeeded, `false` when the service stopped first.
 */
export async function retryUntilStopped(
  options: RetryOptions,
  action: () => Promise<void>,
): Promise<boolean> {
  const { log, stopped, explain = () => undefined } = options;
  let stopping = false;
  stopped.then(() => stopping = true, () => stopping = true);
  const stoppingNow = () => stopping || (options.isStopped?.() ?? false);
  for (let attempt = 1; !stoppingNow(); attempt++) {
    try {
      await action();
      return true;
    } catch (error) {
      const setting = explain(error);
      const delay = setting !== undefined
        ? options.settingRetryMs ?? SETTING_RETRY_MS
        : backoffDelay(options.backoff ?? CONNECT_BACKOFF, attempt);
      if (setting !== undefined) log.error(setting.message, { attempt, retryInMs: delay, error });
      else log.warn(`${options.what} failed; retrying`, { attempt, retryInMs: delay, error });
      await sleepUnless(stopped, delay);
    }
  }
  return false;
}

/** Waits `ms`, or less when `stopped` settles first (a shutdown must not wait out a backoff). */
export async function sleepUnless(stopped: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    stopped.catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
