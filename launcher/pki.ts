// The launcher's PKI: a cluster CA for serving and client certificates, a separate front-proxy CA so a
// backend can tell the aggregator's proxied requests apart from ordinary clients (as kube-apiserver's
// requestheader authentication does), an admin client certificate, and the ServiceAccount token key pair.
// Generated once into <dataDir>/pki and reused afterwards, so kubeconfigs and trust stay valid across
// restarts; only what is missing, expiring or no longer signed by its CA is issued again.

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXTENSION_IDENTITIES } from '../core-apiserver/rbac/bootstrap-policy.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface PkiPaths {
  caCert: string;
  caKey: string;
  frontProxyCaCert: string;
  frontProxyCaKey: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  adminCert: string;
  adminKey: string;
  /** Client certificate extension servers use to ask core for TokenReviews (--authentication-kubeconfig). */
  delegatorCert: string;
  delegatorKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  serving: Record<string, { cert: string; key: string }>;
  /** Client certificates of the components that call core themselves (delegated authorization). */
  clients: Record<string, { cert: string; key: string }>;
}

export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface IssueCertificateOptions {
  caCertPem: string;
  caKeyPem: string;
  commonName: string;
  organizations?: string[];
  usage: 'client' | 'server';
  dnsNames?: string[];
  ipAddresses?: string[];
  validDays?: number;
}

/** Names a component's serving certificate must carry beyond localhost and its own name. */
export const additionalServingNames: Readonly<Record<string, readonly string[]>> = {
  // The aggregator reaches an APIService backend as <service>.<namespace>.svc and verifies that name.
  'sample-extension': ['metrics-server.kube-system.svc'],
};

const keyAlgorithm: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const signingAlgorithm: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const authorityValidDays = 3650;
const leafValidDays = 365;
// Clocks of the machines that check our certificates may lag a little behind ours.
const clockSkewMilliseconds = 5 * 60 * 1000;
// A leaf closer than this to expiry is issued again at start-up instead of failing later mid-run.
const renewBeforeMilliseconds = 30 * 24 * 60 * 60 * 1000;
const dayMilliseconds = 24 * 60 * 60 * 1000;

const reservedFileNames = new Set(['ca', 'front-proxy-ca', 'front-proxy-client', 'admin', 'sa', 'delegator']);
const componentNamePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function createCertificateAuthority(commonName: string): Promise<CertificateAndKey> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - clockSkewMilliseconds),
    notAfter: new Date(now + authorityValidDays * dayMilliseconds),
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: certificate.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export async function issueCertificate(options: IssueCertificateOptions): Promise<CertificateAndKey> {
  const authority = new x509.X509Certificate(options.caCertPem);
  const authoritySigningKey = await importSigningKey(options.caKeyPem);
  const keys = await generateKeyPair();
  const now = Date.now();

  const subject: x509.JsonName = [
    ...(options.organizations ?? []).map((organization) => ({ O: [organization] })),
    { CN: [options.commonName] },
  ];
  const alternativeNames: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extendedUsage = options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // ECDSA keys only sign; keyEncipherment is meaningful for RSA key transport alone.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([extendedUsage], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await authorityKeyIdentifier(authority),
  ];
  if (alternativeNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(alternativeNames, false));

  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject,
    issuer: authority.subjectName,
    notBefore: new Date(now - clockSkewMilliseconds),
    notAfter: new Date(now + (options.validDays ?? leafValidDays) * dayMilliseconds),
    publicKey: keys.publicKey,
    signingKey: authoritySigningKey,
    signingAlgorithm,
    extensions,
  });
  return { certPem: certificate.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export async function ensurePki(dataDir: string, components: string[]): Promise<PkiPaths> {
  for (const component of components) {
    if (!componentNamePattern.test(component) || reservedFileNames.has(component)) {
      throw new Error(`invalid component name ${JSON.stringify(component)} for a serving certificate`);
    }
  }
  const directory = path.resolve(dataDir, 'pki');
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  const files = (name: string) => ({ cert: path.join(directory, `${name}.crt`), key: path.join(directory, `${name}.key`) });

  const clusterCa = files('ca');
  const frontProxyCa = files('front-proxy-ca');
  const frontProxyClient = files('front-proxy-client');
  const admin = files('admin');
  const delegator = files('delegator');
  const serving = Object.fromEntries(components.map((component) => [component, files(component)]));

  const clusterAuthority = await ensureAuthority(clusterCa, 'kubernetes-ca');
  const frontProxyAuthority = await ensureAuthority(frontProxyCa, 'front-proxy-ca');

  await ensureLeaf(frontProxyClient, frontProxyAuthority, { commonName: 'front-proxy-client', usage: 'client' });
  await ensureLeaf(admin, clusterAuthority, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
  // Extension servers are part of the control plane (upstream's apiextensions uses the loopback
  // system:masters identity); they use this identity only for TokenReviews to core.
  await ensureLeaf(delegator, clusterAuthority, { commonName: 'system:extension-apiserver', organizations: ['system:masters'], usage: 'client' });
  for (const component of components) {
    await ensureLeaf(serving[component], clusterAuthority, {
      commonName: component,
      usage: 'server',
      dnsNames: ['localhost', component, ...(additionalServingNames[component] ?? [])],
      ipAddresses: ['127.0.0.1', '::1'],
    });
  }

  // The extension servers' own identities toward core (bound to system:auth-delegator by the bootstrap policy).
  const clients: Record<string, PemFiles> = {};
  for (const component of components) {
    const identity = EXTENSION_IDENTITIES[component as keyof typeof EXTENSION_IDENTITIES];
    if (!identity) continue;
    clients[component] = files(`${component}-client`);
    await ensureLeaf(clients[component], clusterAuthority, { commonName: identity, usage: 'client' });
  }

  const serviceAccountKey = path.join(directory, 'sa.key');
  const serviceAccountPub = path.join(directory, 'sa.pub');
  await ensureServiceAccountKeys(serviceAccountKey, serviceAccountPub);

  return {
    caCert: clusterCa.cert,
    caKey: clusterCa.key,
    frontProxyCaCert: frontProxyCa.cert,
    frontProxyCaKey: frontProxyCa.key,
    frontProxyClientCert: frontProxyClient.cert,
    frontProxyClientKey: frontProxyClient.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    delegatorCert: delegator.cert,
    delegatorKey: delegator.key,
    serviceAccountKey,
    serviceAccountPub,
    serving,
    clients,
  };
}

/** Writes through a temporary file so a crash never leaves half a PEM that a later start would trust. */
export async function writeFileAtomically(file: string, contents: string, mode: number): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, contents, { mode });
  await chmod(temporary, mode);
  await rename(temporary, file);
}

interface PemFiles {
  cert: string;
  key: string;
}

type LeafRequest = Omit<IssueCertificateOptions, 'caCertPem' | 'caKeyPem'>;

async function ensureAuthority(files: PemFiles, commonName: string): Promise<CertificateAndKey> {
  const existing = await readPair(files);
  if (existing && isUsableAuthority(existing)) return existing;
  const created = await createCertificateAuthority(commonName);
  await writePair(files, created);
  return created;
}

async function ensureLeaf(files: PemFiles, authority: CertificateAndKey, request: LeafRequest): Promise<void> {
  const existing = await readPair(files);
  if (existing && isUsableLeaf(existing, authority, request)) return;
  await writePair(files, await issueCertificate({ ...request, caCertPem: authority.certPem, caKeyPem: authority.keyPem }));
}

async function ensureServiceAccountKeys(keyFile: string, publicKeyFile: string): Promise<void> {
  let keyPem = await readIfPresent(keyFile);
  if (keyPem === undefined || !parsesAsPrivateKey(keyPem)) {
    const keys = await generateKeyPair();
    keyPem = await exportPrivateKeyPem(keys.privateKey);
    await writeFileAtomically(keyFile, keyPem, 0o600);
    await writeFileAtomically(publicKeyFile, createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString(), 0o644);
    return;
  }
  if ((await readIfPresent(publicKeyFile)) === undefined) {
    await writeFileAtomically(publicKeyFile, createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  }
}

function isUsableAuthority(pair: CertificateAndKey): boolean {
  try {
    const certificate = new X509Certificate(pair.certPem);
    return certificate.ca && certificate.checkPrivateKey(createPrivateKey(pair.keyPem)) && !isExpired(certificate, 0);
  } catch {
    return false;
  }
}

function isUsableLeaf(pair: CertificateAndKey, authority: CertificateAndKey, request: LeafRequest): boolean {
  try {
    const certificate = new X509Certificate(pair.certPem);
    const authorityCertificate = new X509Certificate(authority.certPem);
    if (!certificate.verify(authorityCertificate.publicKey)) return false;
    if (!certificate.checkPrivateKey(createPrivateKey(pair.keyPem))) return false;
    if (isExpired(certificate, renewBeforeMilliseconds)) return false;
    // Names added to a component since its certificate was issued must be served too.
    if (!(request.dnsNames ?? []).every((name) => certificate.checkHost(name, { wildcards: false }) === name)) return false;
    return (request.ipAddresses ?? []).every((address) => certificate.checkIP(address) === address);
  } catch {
    return false;
  }
}

function isExpired(certificate: X509Certificate, marginMilliseconds: number): boolean {
  return new Date(certificate.validTo).getTime() - marginMilliseconds <= Date.now();
}

async function readPair(files: PemFiles): Promise<CertificateAndKey | undefined> {
  const [certPem, keyPem] = await Promise.all([readIfPresent(files.cert), readIfPresent(files.key)]);
  return certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
}

async function writePair(files: PemFiles, pair: CertificateAndKey): Promise<void> {
  // Key first: a crash in between leaves no certificate, so the next start issues a fresh pair.
  await writeFileAtomically(files.key, pair.keyPem, 0o600);
  await writeFileAtomically(files.cert, pair.certPem, 0o644);
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parsesAsPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', privateKey);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n';
}

/** Imports a CA key in any PEM form Node reads (PKCS#8, SEC1), so an operator-supplied CA works too. */
async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const keyObject = createPrivateKey(keyPem);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const namedCurve = curveNames[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!namedCurve) throw new Error(`unsupported CA key curve ${keyObject.asymmetricKeyDetails?.namedCurve}`);
    return webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    return webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  }
  throw new Error(`unsupported CA key type ${keyObject.asymmetricKeyType}`);
}

const curveNames: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

async function authorityKeyIdentifier(authority: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  // Reuse the CA's own identifier byte for byte, so chain builders that match AKI to SKI find it.
  const subjectKeyIdentifier = authority.getExtension(x509.SubjectKeyIdentifierExtension);
  if (subjectKeyIdentifier) return new x509.AuthorityKeyIdentifierExtension(subjectKeyIdentifier.keyId, false);
  return x509.AuthorityKeyIdentifierExtension.create(authority.publicKey, false);
}

/** 128 random bits with the top bit clear: positive and at most 16 bytes, as RFC 5280 and Go require. */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/**
 * A client certificate from the cluster CA for a component that calls the API as an ordinary user (the
 * metrics extension, a node agent as system:node:<name>), issued once into <dataDir>/pki/<fileName>.crt.
 */
export async function ensureClientCertificate(dataDir: string, fileName: string, commonName: string, organizations: string[] = []): Promise<{ cert: string; key: string }> {
  if (!componentNamePattern.test(fileName) || reservedFileNames.has(fileName)) throw new Error(`invalid certificate file name ${JSON.stringify(fileName)}`);
  const directory = path.resolve(dataDir, 'pki');
  const authority = await readPair({ cert: path.join(directory, 'ca.crt'), key: path.join(directory, 'ca.key') });
  if (!authority) throw new Error('the cluster CA does not exist yet: run ensurePki first');
  const files = { cert: path.join(directory, `${fileName}.crt`), key: path.join(directory, `${fileName}.key`) };
  await ensureLeaf(files, authority, { commonName, organizations, usage: 'client' });
  return files;
}
