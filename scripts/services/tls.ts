/**
 * TLS material of the local stack, made with openssl: a private CA and one server certificate
 * for 127.0.0.1 and localhost. The Kafka broker's SASL_SSL listener serves it; clients trust the
 * CA through KAFKA_TLS_CA_FILE, as they trust Strimzi's cluster CA in Kubernetes.
 * @module
 */

import { issueCertificate, makeCa } from "../openssl.ts";
import { log, run, SERVICES_DIR } from "./util.ts";

/** Where the files are. */
export interface LocalTls {
  /** CA certificate (PEM): what clients trust. */
  caFile: string;
  /** Server private key (PKCS#8 PEM, unencrypted). */
  keyFile: string;
  /** Server certificate (PEM) for IP 127.0.0.1 and DNS localhost. */
  certFile: string;
  /** Key and certificate in one file: Kafka's PEM keystore format. */
  keystoreFile: string;
}

/** Folder of the local stack's TLS files. */
export const TLS_DIR = `${SERVICES_DIR}/tls`;

const FILES: LocalTls = {
  caFile: `${TLS_DIR}/ca.crt`,
  keyFile: `${TLS_DIR}/server.key`,
  certFile: `${TLS_DIR}/server.crt`,
  keystoreFile: `${TLS_DIR}/server-keystore.pem`,
};

/** Certificates live this long; a set with less than a week left is made again. */
const VALID_DAYS = 365;
const RENEW_BEFORE_S = 7 * 24 * 3600;

/** True when every file exists and the server certificate outlives the renewal margin. */
async function usable(): Promise<boolean> {
  for (const file of Object.values(FILES)) {
    try {
      await Deno.stat(file);
    } catch {
      return false;
    }
  }
  const check = await run([
    "openssl",
    "x509",
    "-checkend",
    `${RENEW_BEFORE_S}`,
    "-noout",
    "-in",
    FILES.certFile,
  ]);
  return check.code === 0;
}

let ensured: Promise<LocalTls> | undefined;

/**
 * Returns the local CA and server certificate, making them on first use (or when the server
 * certificate is about to expire). The keys are readable by their owner only. Checked once per
 * process: Kafka's and PostgreSQL's start both ask.
 */
export function ensureLocalTls(): Promise<LocalTls> {
  ensured ??= makeUnlessUsable().catch((error) => {
    ensured = undefined;
    throw error;
  });
  return ensured;
}

async function makeUnlessUsable(): Promise<LocalTls> {
  if (await usable()) return FILES;
  await Deno.mkdir(TLS_DIR, { recursive: true, mode: 0o700 });
  log("tls", `making a local CA and a server certificate for 127.0.0.1 in ${TLS_DIR}`);
  await makeCa(TLS_DIR, "/CN=iot local stack CA", VALID_DAYS);
  await issueCertificate(TLS_DIR, "server", "/CN=127.0.0.1", [
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "extendedKeyUsage=serverAuth",
  ], VALID_DAYS);
  const keystore = (await Deno.readTextFile(FILES.keyFile)) +
    (await Deno.readTextFile(FILES.certFile));
  await Deno.writeTextFile(FILES.keystoreFile, keystore, { mode: 0o600 });
  return FILES;
}
