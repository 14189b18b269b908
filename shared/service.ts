/**
 * The process lifecycle both services share: settings read once (every problem logged, exit 2),
 * the process's exit code from `main`, and a deadline that ends a graceful stop that hangs.
 *
 * @module
 */

import { ConfigError } from "./env.ts";
import { createLogger } from "./log.ts";

/**
 * Reads the settings with `load`, or logs every problem as one error line and returns
 * `undefined`: the caller then exits with code 2.
 *
 * @param service The service's name in log lines.
 * @param load The service's settings reader (throws {@linkcode ConfigError}).
 */
export function loadServiceConfig<C>(
  service: string,
  load: (env: Record<string, string | undefined>) => C,
): C | undefined {
  try {
    return load(Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger(service).error(error.message, { problems: error.problems });
    return undefined;
  }
}

/**
 * Runs `main` as the whole process and exits with its code; anything it throws (the HTTP port
 * taken, say) is logged as a "fatal error" line and exits with 1.
 *
 * @param service The service's name in log lines.
 * @param main The service; resolves with the exit code.
 */
export async function runAsProcess(service: string, main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (error) {
    createLogger(service).error("fatal error", { error });
    Deno.exit(1);
  }
}

/**
 * Calls `expired` after `seconds` unless cancelled: the bound on a graceful stop, past which the
 * orchestrator would SIGKILL the process anyway.
 *
 * @param seconds `SHUTDOWN_TIMEOUT_S`.
 * @param expired Logs why and exits.
 * @returns Cancels the deadline.
 */
export function startDeadline(seconds: number, expired: () => void): () => void {
  const timer = setTimeout(expired, seconds * 1000);
  return () => clearTimeout(timer);
}

/**
 * Calls `handler` once on the first SIGTERM or SIGINT; a second signal exits at once with 130,
 * for a person who does not want to wait.
 *
 * @returns A function that removes the listeners.
 */
export function onShutdownSignal(handler: (signal: Deno.Signal) => void): () => void {
  let received = false;
  const listeners = (["SIGTERM", "SIGINT"] as const).map((signal) => {
    const listener = () => {
      if (received) Deno.exit(130);
      received = true;
      handler(signal);
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => listeners.forEach(([s, l]) => Deno.removeSignalListener(s, l));
}
