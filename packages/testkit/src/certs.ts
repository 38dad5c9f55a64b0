import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TestServerError } from "./errors.js";

const run = promisify(execFile);

/** A PEM certificate and key, both as files and as contents. */
export interface CertificatePair {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/** A test certificate authority that can issue server and client certificates. */
export interface CertificateAuthority {
  dir: string;
  caFile: string;
  ca: string;
  keyFile: string;
  /** Issues a certificate valid for server and client use on localhost and 127.0.0.1. */
  issue(commonName: string, options?: IssueOptions): Promise<CertificatePair>;
}

export interface IssueOptions {
  /** Extra DNS subject alternative names besides `localhost`. */
  dnsNames?: string[];
  /** Organisations (O=), which Kubernetes reads as groups. */
  organizations?: string[];
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run("openssl", args, { cwd });
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new TestServerError(
      missing ? 'openssl is not installed: run "apt-get install -y openssl"' : `openssl ${args[0]} failed`,
      { cause: err },
    );
  }
}

let serial = 0;

/**
 * Creates a fresh CA (ECDSA P-256, valid one day) in its own temp dir. Each call gives an unrelated CA,
 * which is what a test of "client certificate from another CA is refused" needs.
 */
export async function createCertificateAuthority(name = "fedview-test-ca"): Promise<CertificateAuthority> {
  const dir = await mkdtemp(join(tmpdir(), "fedview-ca-"));
  const caFile = join(dir, "ca.crt");
  const keyFile = join(dir, "ca.key");
  await openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      caFile,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  const ca = await readFile(caFile, "utf8");

  async function issue(commonName: string, options: IssueOptions = {}): Promise<CertificatePair> {
    serial++;
    const base = join(dir, `${commonName.replace(/[^A-Za-z0-9_.-]/g, "_")}-${serial}`);
    const subject = [`/CN=${commonName}`, ...(options.organizations ?? []).map((o) => `/O=${o}`)].join("");
    const dns = ["localhost", ...(options.dnsNames ?? [])].map((d) => `DNS:${d}`).join(",");
    await writeFile(
      `${base}.ext`,
      [
        `subjectAltName=${dns},IP:127.0.0.1,IP:::1`,
        "extendedKeyUsage=serverAuth,clientAuth",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "",
      ].join("\n"),
    );
    await openssl(
      [
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.csr`,
        "-subj",
        subject,
      ],
      dir,
    );
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        caFile,
        "-CAkey",
        keyFile,
        "-set_serial",
        String(Date.now() * 1000 + serial),
        "-days",
        "1",
        "-out",
        `${base}.crt`,
        "-extfile",
        `${base}.ext`,
      ],
      dir,
    );
    return {
      certFile: `${base}.crt`,
      keyFile: `${base}.key`,
      cert: await readFile(`${base}.crt`, "utf8"),
      key: await readFile(`${base}.key`, "utf8"),
    };
  }

  return { dir, caFile, ca, keyFile, issue };
}

/** A CA with a server certificate and one client certificate: what a TLS test server needs. */
export interface TlsMaterial {
  authority: CertificateAuthority;
  caFile: string;
  ca: string;
  server: CertificatePair;
  client: CertificatePair;
}

/** Creates a CA, a `localhost` server certificate and a client certificate with the given common name. */
export async function createTlsMaterial(clientName = "fedview-test-client"): Promise<TlsMaterial> {
  const authority = await createCertificateAuthority();
  const server = await authority.issue("localhost");
  const client = await authority.issue(clientName);
  return { authority, caFile: authority.caFile, ca: authority.ca, server, client };
}
