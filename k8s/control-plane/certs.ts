/**
 * Certificates of the test control plane, made with openssl: a CA, the API server's serving
 * certificate, an administrator's client certificate and the service-account signing key.
 *
 * @module
 */

import { issueCertificate, makeCa, openssl } from "../../scripts/openssl.ts";

/** Paths of the files {@link makeCertificates} writes. */
export interface Certificates {
  /** CA certificate: trusted by every client, and the client CA of the API server. */
  caCert: string;
  /** CA key. */
  caKey: string;
  /** API server serving certificate (127.0.0.1, localhost, kubernetes.default.svc). */
  serverCert: string;
  /** Its key. */
  serverKey: string;
  /** Client certificate of `admin` in `system:masters`. */
  adminCert: string;
  /** Its key. */
  adminKey: string;
  /** Private key that signs service-account tokens. */
  serviceAccountKey: string;
  /** Its public key, which verifies them. */
  serviceAccountPub: string;
}

/** The test control plane's certificates live two days: each test run makes its own. */
const DAYS = 2;

/**
 * Issues a certificate signed by the CA in `dir` ({@link makeCertificates} made it).
 *
 * @param dir The certificates' folder.
 * @param name Base name: writes `<name>.key` and `<name>.crt`.
 * @param subject e.g. `/CN=kube-apiserver`.
 * @param extensions `-addext` values, e.g. `subjectAltName=IP:127.0.0.1`.
 */
export function issue(dir: string, name: string, subject: string, extensions: string[]) {
  return issueCertificate(dir, name, subject, extensions, DAYS);
}

/**
 * Writes a fresh set of certificates into a folder.
 *
 * @param dir An existing, empty folder.
 * @returns The paths.
 */
export async function makeCertificates(dir: string): Promise<Certificates> {
  await makeCa(dir, "/CN=iot-test-control-plane-ca", DAYS);
  await issue(dir, "apiserver", "/CN=kube-apiserver", [
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default," +
    "DNS:kubernetes.default.svc,IP:10.96.0.1",
    "extendedKeyUsage=serverAuth",
  ]);
  await issue(dir, "admin", "/O=system:masters/CN=admin", ["extendedKeyUsage=clientAuth"]);
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"], dir);
  await openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  return {
    caCert: `${dir}/ca.crt`,
    caKey: `${dir}/ca.key`,
    serverCert: `${dir}/apiserver.crt`,
    serverKey: `${dir}/apiserver.key`,
    adminCert: `${dir}/admin.crt`,
    adminKey: `${dir}/admin.key`,
    serviceAccountKey: `${dir}/sa.key`,
    serviceAccountPub: `${dir}/sa.pub`,
  };
}
