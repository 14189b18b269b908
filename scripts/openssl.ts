/**
 * Certificates made with openssl: a CA and certificates it signs, EC P-256 keys, unencrypted
 * (PKCS#8). Used by the local stack (scripts/services/tls.ts), the test control plane
 * (k8s/control-plane/certs.ts) and tests that need a CA of their own. Reads no environment.
 *
 * @module
 */

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Runs openssl in `dir`; a failure throws with openssl's own words.
 *
 * @param args openssl's arguments.
 * @param dir Working folder.
 */
export async function openssl(args: string[], dir: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(`cannot run openssl (Debian package "openssl"): ${error}`);
  }
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Makes a self-signed CA: `<dir>/ca.key` and `<dir>/ca.crt`.
 *
 * @param dir An existing folder.
 * @param subject e.g. `/CN=iot local stack CA`.
 * @param days Validity.
 */
export async function makeCa(dir: string, subject: string, days: number): Promise<void> {
  await openssl(
    ["req", "-x509", ...EC_KEY, "-keyout", "ca.key", "-out", "ca.crt", "-days", `${days}`]
      .concat(["-subj", subject]),
    dir,
  );
}

/**
 * Issues `<dir>/<name>.key` and `<dir>/<name>.crt`, signed by the CA {@link makeCa} made in `dir`.
 *
 * @param dir The CA's folder.
 * @param name Base name of the files.
 * @param subject e.g. `/CN=kube-apiserver`.
 * @param extensions `-addext` values, e.g. `subjectAltName=IP:127.0.0.1`.
 * @param days Validity.
 */
export async function issueCertificate(
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
  days: number,
): Promise<void> {
  await openssl(
    ["req", "-new", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]
      .concat(extensions.flatMap((e) => ["-addext", e])),
    dir,
  );
  await openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"]
      .concat(["-days", `${days}`, "-copy_extensions", "copyall", "-out", `${name}.crt`]),
    dir,
  );
}
