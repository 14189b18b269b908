/**
 * The connection options of a @platformatic/kafka client (the producer's, and the consumer's when
 * `KAFKA_CONSUMER_CLIENT=platformatic`), from the same resolved security settings the kafkajs
 * client reads (kafka_security.ts).
 *
 * @module
 */

import type { SASLOptions } from "@platformatic/kafka";
import type { KafkaSaslMechanism, KafkaSecurity } from "./kafka_security.ts";
import type { ReadTextFile } from "./env.ts";

/** Our setting's values (kafkajs's spelling) in @platformatic/kafka's spelling. */
const MECHANISMS = {
  "scram-sha-512": "SCRAM-SHA-512",
  "scram-sha-256": "SCRAM-SHA-256",
  "plain": "PLAIN",
} as const satisfies Record<KafkaSaslMechanism, SASLOptions["mechanism"]>;

/** The TLS and SASL options of a @platformatic/kafka client. */
export interface PlatformaticConnectionOptions {
  /** Node TLS options: absent for plaintext. */
  tls?: { ca?: string[]; rejectUnauthorized: true };
  /** SASL: absent without `SASL_*`. */
  sasl?: SASLOptions;
}

/**
 * The @platformatic/kafka options for `security`. The CA file is read now; the password file is
 * read at every new connection (the client calls the provider when it authenticates), so a rotated
 * Secret is picked up by the next connection without a new client.
 *
 * @param security Resolved settings.
 * @param readFile Reads the files (tests pass a fake).
 */
export function platformaticConnectionOptions(
  security: KafkaSecurity,
  readFile: ReadTextFile = Deno.readTextFileSync,
): PlatformaticConnectionOptions {
  const options: PlatformaticConnectionOptions = {};
  if (security.tls) {
    const ca = security.tls.caFile === undefined ? undefined : [readFile(security.tls.caFile)];
    options.tls = { ca, rejectUnauthorized: true };
  }
  if (security.sasl) {
    const { mechanism, username, passwordFile, password } = security.sasl;
    options.sasl = {
      mechanism: MECHANISMS[mechanism],
      username,
      // A trailing newline is what `echo` and most editors leave; it is never part of a password.
      password: passwordFile === undefined
        ? password ?? ""
        : () => readFile(passwordFile).trimEnd(),
    };
  }
  return options;
}
