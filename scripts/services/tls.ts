/**
 * TLS material of the local stack, made with openssl: a private CA and one server certificate
 * for 127.0.0.1 and localhost. The Kafka broker's SASL_SSL listener serves it; clients trust the
 * CA through KAFKA_TLS_CA_FILE, as they trust Strimzi's cluster CA in Kubernetes.
 * @module
 */

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

async function openssl(args: string[]): Promise<void> {
  await run(["openssl", ...args], { check: true, cwd: TLS_DIR }).catch((err) => {
    throw new Error(`${err.message} (install openssl, Debian package "openssl")`);
  });
}

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

/**
 * Returns the local CA and server certificate, making them on first use (or when the server
 * certificate is about to expire). The keys are readable by their owner only.
 */
export async function ensureLocalTls(): Promise<LocalTls> {
  if (await usable()) return FILES;
  await Deno.mkdir(TLS_DIR, { recursive: true, mode: 0o700 });
  log("tls", `making a local CA and a server certificate for 127.0.0.1 in ${TLS_DIR}`);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    `${VALID_DAYS}`,
    "-subj",
    "/CN=iot local stack CA",
  ]);
  await openssl([
    "req",
    "-new",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-addext",
    "extendedKeyUsage=serverAuth",
  ]);
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    `${VALID_DAYS}`,
    "-copy_extensions",
    "copyall",
    "-out",
    "server.crt",
  ]);
  const keystore = (await Deno.readTextFile(FILES.keyFile)) +
    (await Deno.readTextFile(FILES.certFile));
  await Deno.writeTextFile(FILES.keystoreFile, keystore, { mode: 0o600 });
  return FILES;
}
