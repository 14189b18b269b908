/**
 * TLS material of the local stack, made with openssl: a private CA and one server certificate
 * for 127.0.0.1 and localhost. The Kafka broker's SASL_SSL listener serves it; clients trust the
 * CA through KAFKA_TLS_CA_FILE, as they trust Strimzi's cluster CA in Kubernetes.
 * @module
 */

import { issueCertificate, makeCa } from "../openssl.ts";
import { run } from "../command.ts";
import { log } from "./util.ts";

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

/** The files in a stack's TLS folder. */
export function tlsFiles(tlsDir: string): LocalTls {
  return {
    caFile: `${tlsDir}/ca.crt`,
    keyFile: `${tlsDir}/server.key`,
    certFile: `${tlsDir}/server.crt`,
    keystoreFile: `${tlsDir}/server-keystore.pem`,
  };
}

/** Certificates live this long; a set with less than a week left is made again. */
const VALID_DAYS = 365;
const RENEW_BEFORE_S = 7 * 24 * 3600;

/** True when every file exists and the server certificate outlives the renewal margin. */
async function usable(files: LocalTls): Promise<boolean> {
  for (const file of Object.values(files)) {
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
    files.certFile,
  ]);
  return check.code === 0;
}

/** One check per folder and process: Kafka's and PostgreSQL's start both ask. */
const ensured = new Map<string, Promise<LocalTls>>();

/**
 * Returns the CA and server certificate in `tlsDir`, making them on first use (or when the server
 * certificate is about to expire). The keys are readable by their owner only.
 *
 * @param tlsDir The stack's TLS folder.
 */
export function ensureLocalTls(tlsDir: string): Promise<LocalTls> {
  let pending = ensured.get(tlsDir);
  if (pending === undefined) {
    pending = makeUnlessUsable(tlsDir).catch((error) => {
      ensured.delete(tlsDir);
      throw error;
    });
    ensured.set(tlsDir, pending);
  }
  return pending;
}

async function makeUnlessUsable(tlsDir: string): Promise<LocalTls> {
  const files = tlsFiles(tlsDir);
  if (await usable(files)) return files;
  await Deno.mkdir(tlsDir, { recursive: true, mode: 0o700 });
  log("tls", `making a local CA and a server certificate for 127.0.0.1 in ${tlsDir}`);
  await makeCa(tlsDir, "/CN=iot local stack CA", VALID_DAYS);
  await issueCertificate(tlsDir, "server", "/CN=127.0.0.1", [
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "extendedKeyUsage=serverAuth",
  ], VALID_DAYS);
  const keystore = (await Deno.readTextFile(files.keyFile)) +
    (await Deno.readTextFile(files.certFile));
  await Deno.writeTextFile(files.keystoreFile, keystore, { mode: 0o600 });
  return files;
}
