/**
 * How both services reach Kafka securely: the settings (TLS and SASL), their validation, the
 * kafkajs options they become, and a plain-words explanation of the failures they can cause.
 *
 * In Kubernetes the chart sets SASL_SSL with SCRAM-SHA-512: the password comes from the Secret of
 * the service's KafkaUser (mounted as a file, so a rotated password is read at the next
 * connection) and the CA from Strimzi's cluster CA Secret. PLAINTEXT is for loopback development
 * only: anyone who can reach the port can read, forge or delete everything.
 *
 * @module
 */

import { type EnvReader, notBlank, pemCertificate, type ReadTextFile } from "./env.ts";
import type { SettingsTable } from "./settings.ts";

/** Values of `KAFKA_SECURITY_PROTOCOL`, Kafka's own names. */
export const KAFKA_SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
/** How the connection is protected. */
export type KafkaSecurityProtocol = typeof KAFKA_SECURITY_PROTOCOLS[number];

/** Values of `KAFKA_SASL_MECHANISM`, kafkajs's names. */
export const KAFKA_SASL_MECHANISMS = ["scram-sha-512", "scram-sha-256", "plain"] as const;
/** A SASL mechanism. */
export type KafkaSaslMechanism = typeof KAFKA_SASL_MECHANISMS[number];

/** The security settings, resolved. */
export interface KafkaSecurity {
  /** `KAFKA_SECURITY_PROTOCOL`. */
  protocol: KafkaSecurityProtocol;
  /** Present for SASL_PLAINTEXT and SASL_SSL. */
  sasl?: {
    /** `KAFKA_SASL_MECHANISM`. */
    mechanism: KafkaSaslMechanism;
    /** `KAFKA_SASL_USERNAME`. */
    username: string;
    /** `KAFKA_SASL_PASSWORD_FILE`, read at every connection; or else... */
    passwordFile?: string;
    /** ...`KAFKA_SASL_PASSWORD`. */
    password?: string;
  };
  /** Present for SSL and SASL_SSL. */
  tls?: {
    /** `KAFKA_TLS_CA_FILE`: PEM CA(s) to trust; the system's roots when absent. */
    caFile?: string;
  };
}

/** Where the chart takes the security settings from. */
const CHART_SECURITY = "`kafka.security` (external Kafka: `extraEnv`)";

/** The security settings of both services; read by {@linkcode readKafkaSecurity}. */
export const KAFKA_SECURITY_SETTINGS = {
  KAFKA_SECURITY_PROTOCOL: {
    type: "choice",
    values: KAFKA_SECURITY_PROTOCOLS,
    default: "PLAINTEXT",
    chart: CHART_SECURITY,
    description: "How Kafka is reached. `PLAINTEXT` is for loopback development only: " +
      "anyone who reaches the port can read, forge or delete.",
  },
  KAFKA_SASL_MECHANISM: {
    type: "choice",
    values: KAFKA_SASL_MECHANISMS,
    default: "scram-sha-512",
    chart: CHART_SECURITY,
    description: "With `SASL_*`: how the password is proven.",
  },
  KAFKA_SASL_USERNAME: {
    type: "string",
    chart: CHART_SECURITY,
    accepts: "text",
    description: "With `SASL_*`: the Kafka user (required).",
  },
  KAFKA_SASL_PASSWORD: {
    type: "string",
    chart: CHART_SECURITY,
    accepts: "text",
    description: "With `SASL_*`: its password; or else `KAFKA_SASL_PASSWORD_FILE`.",
  },
  KAFKA_SASL_PASSWORD_FILE: {
    type: "file",
    holds: "a password",
    chart: CHART_SECURITY,
    description: "With `SASL_*`: file holding the password, read at every connection " +
      "(a rotated Secret is picked up); or else `KAFKA_SASL_PASSWORD`.",
  },
  KAFKA_TLS_CA_FILE: {
    type: "file",
    holds: "PEM certificates",
    defaultText: "system roots",
    chart: CHART_SECURITY,
    description: "With `SSL` or `SASL_SSL`: the CA of the brokers' certificates " +
      "(Strimzi: `<cluster>-cluster-ca-cert`).",
  },
} as const satisfies SettingsTable;

const SASL_VARIABLES = ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE"];

/**
 * Reads and checks the Kafka security settings; problems are added to `read`, so they are
 * reported with all the others. Files named by the settings are read once here to check them.
 *
 * @param read The service's settings reader.
 * @param readFile Reads the CA and password files.
 */
export function readKafkaSecurity(
  read: EnvReader,
  readFile: ReadTextFile = Deno.readTextFileSync,
): KafkaSecurity {
  const { KAFKA_SECURITY_PROTOCOL: protocolRow, KAFKA_SASL_MECHANISM: mechanismRow } =
    KAFKA_SECURITY_SETTINGS;
  const protocol = read.choice("KAFKA_SECURITY_PROTOCOL", protocolRow.default, protocolRow.values);
  const security: KafkaSecurity = { protocol };
  const usesSasl = protocol.startsWith("SASL_");
  const usesTls = protocol === "SSL" || protocol === "SASL_SSL";
  if (usesSasl) {
    const mechanism = read.choice(
      "KAFKA_SASL_MECHANISM",
      mechanismRow.default,
      mechanismRow.values,
    );
    const username = read.raw("KAFKA_SASL_USERNAME");
    const password = read.raw("KAFKA_SASL_PASSWORD");
    const passwordFile = read.raw("KAFKA_SASL_PASSWORD_FILE");
    if (username === undefined) {
      read.problem(`KAFKA_SASL_USERNAME must be set when KAFKA_SECURITY_PROTOCOL=${protocol}`);
    }
    if ((password === undefined) === (passwordFile === undefined)) {
      read.problem(
        `exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE must be set when ` +
          `KAFKA_SECURITY_PROTOCOL=${protocol}`,
      );
    }
    if (passwordFile !== undefined) {
      read.checkFile("KAFKA_SASL_PASSWORD_FILE", passwordFile, notBlank, readFile);
    }
    security.sasl = { mechanism, username: username ?? "", password, passwordFile };
  } else {
    // A credential that would be silently ignored is a misconfiguration, not a preference.
    for (const name of [...SASL_VARIABLES, "KAFKA_SASL_MECHANISM"]) {
      if (read.raw(name) !== undefined) {
        read.problem(`${name} is set but KAFKA_SECURITY_PROTOCOL=${protocol} sends no credentials`);
      }
    }
  }
  const caFile = read.raw("KAFKA_TLS_CA_FILE");
  if (usesTls) {
    if (caFile !== undefined) read.checkFile("KAFKA_TLS_CA_FILE", caFile, pemCertificate, readFile);
    security.tls = { caFile };
  } else if (caFile !== undefined) {
    read.problem(`KAFKA_TLS_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=${protocol} uses no TLS`);
  }
  return security;
}

/** The connection options of a kafkajs client. */
export interface KafkaConnectionOptions {
  /** kafkajs `ssl`: absent for plaintext. */
  ssl?: { ca?: string[]; rejectUnauthorized: true };
  /** kafkajs `sasl`. */
  sasl?: SaslCredentials;
}

/** kafkajs's SASL options: one member per mechanism, as its types require. */
export type SaslCredentials = {
  [M in KafkaSaslMechanism]: { mechanism: M; username: string; password: string };
}[KafkaSaslMechanism];

/**
 * The kafkajs options for `security`, reading the password and CA files now: call it for every
 * new client, so a rotated password is picked up on reconnection.
 *
 * @param security Resolved settings.
 * @param readFile Reads the files.
 */
export function kafkaConnectionOptions(
  security: KafkaSecurity,
  readFile: ReadTextFile = Deno.readTextFileSync,
): KafkaConnectionOptions {
  const options: KafkaConnectionOptions = {};
  if (security.tls) {
    const ca = security.tls.caFile === undefined ? undefined : [readFile(security.tls.caFile)];
    options.ssl = { ca, rejectUnauthorized: true };
  }
  if (security.sasl) {
    const { mechanism, username, passwordFile, password } = security.sasl;
    options.sasl = {
      mechanism: mechanism as "plain",
      username,
      // A trailing newline is what `echo` and most editors leave; it is never part of a password.
      password: passwordFile === undefined ? password ?? "" : readFile(passwordFile).trimEnd(),
    };
  }
  return options;
}

/** A Kafka failure the operator can fix by changing a setting. */
export interface KafkaSettingFailure {
  /** What went wrong and which setting to check, in plain words. */
  message: string;
  /** Short form for readiness: `kafka: <reason>`. */
  reason: string;
}

/**
 * Explains a connection or request failure caused by the security settings, or returns
 * `undefined` for any other failure (a broker down, a rebalance), which is worth a plain retry.
 *
 * @param error What the Kafka client threw (kafkajs or @platformatic/kafka).
 * @param security The settings in use.
 * @param groupId `KAFKA_GROUP_ID`, for a consumer.
 */
export function explainKafkaFailure(
  error: unknown,
  security: KafkaSecurity,
  groupId?: string,
): KafkaSettingFailure | undefined {
  const text = describeChain(error);
  const user = JSON.stringify(security.sasl?.username ?? "");
  if (/SASLAuthentication|Authentication failed|SASL .* authentication failed/i.test(text)) {
    const source = security.sasl?.passwordFile !== undefined
      ? `KAFKA_SASL_PASSWORD_FILE (${security.sasl.passwordFile})`
      : "KAFKA_SASL_PASSWORD";
    return {
      reason: "authentication failed",
      message: `Kafka refused the credentials of KAFKA_SASL_USERNAME=` +
        `${JSON.stringify(security.sasl?.username ?? "")} with ` +
        `KAFKA_SASL_MECHANISM=${security.sasl?.mechanism ?? "(none)"}: check the user exists ` +
        `and ${source} holds its password`,
    };
  }
  if (/AUTHORIZATION_FAILED|not authorized/i.test(text)) {
    return {
      reason: "not authorized",
      message: `Kafka denied KAFKA_SASL_USERNAME=${user} an operation on the topic or group: ` +
        `its ACLs must allow it (${firstLine(text)})`,
    };
  }
  if (security.sasl && groupId !== undefined && /GroupCoordinatorNotFound/.test(text)) {
    // kafkajs 2.2.4 drops the broker's answer to FindCoordinator and says only this; a broker
    // that answered metadata (as it had to, for this step) and is not loading its groups (that
    // is retried, and ends differently) refuses the group for want of an ACL.
    return {
      reason: "not authorized",
      message: `Kafka denied KAFKA_SASL_USERNAME=${user} the group KAFKA_GROUP_ID=` +
        `${JSON.stringify(groupId)}: its ACLs must allow READ on that group (${firstLine(text)})`,
    };
  }
  if (/certificate|UnknownIssuer|NotValidForName|self[- ]signed|CERT_|handshake/i.test(text)) {
    return {
      reason: "TLS handshake failed",
      message: "the broker's TLS certificate was not accepted: KAFKA_TLS_CA_FILE=" +
        `${JSON.stringify(security.tls?.caFile ?? "(system roots)")} must hold the CA that ` +
        `signed it, and KAFKA_BROKERS must name a host it was issued for (${firstLine(text)})`,
    };
  }
  return undefined;
}

function describeChain(error: unknown): string {
  const parts: string[] = [];
  // kafkajs chains one error (`originalError`, `cause`); @platformatic/kafka also aggregates
  // several (`errors`: one per attempt or broker) and names Kafka's error code in `apiId`.
  const visit = (e: unknown, depth: number) => {
    if (e === undefined || e === null || depth >= 5 || parts.length >= 40) return;
    if (!(e instanceof Error)) {
      parts.push(String(e));
      return;
    }
    parts.push(`${e.name}: ${e.message}`);
    const more = e as Error & {
      type?: string;
      code?: string;
      apiId?: string;
      originalError?: unknown;
      errors?: unknown[];
    };
    for (const field of [more.type, more.code, more.apiId]) if (field) parts.push(field);
    visit(more.originalError ?? more.cause, depth + 1);
    if (Array.isArray(more.errors)) { for (const inner of more.errors) visit(inner, depth + 1); }
  };
  visit(error, 0);
  return parts.join(" | ");
}

function firstLine(text: string): string {
  return text.split("\n")[0].slice(0, 200);
}
