/**
 * Sealing connection secrets with NATS curve keys (xkeys: X25519 + XSalsa20-Poly1305). config-service
 * seals with its own curve key to the connectors' public key; only a holder of the connectors' private
 * key opens them, and the box proves which sender key sealed them. Clear text never reaches the bus.
 */
import type { KeyPair } from "@nats-io/nkeys";
import { createCurve, fromCurveSeed, fromPublic } from "@nats-io/nkeys";
import { z } from "zod";
import { sealedSecretsSchema, toIssues } from "./codecs.js";
import { SealingError } from "./errors.js";
import type { SealedSecrets } from "./types.js";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const secretsSchema = z.record(z.string(), z.string());

/** A NATS curve key pair (an nkeys `KeyPair` made by {@link createSealingKeyPair} or from an `SX…` seed). */
export type SealingKeyPair = KeyPair;

/** A new random curve key pair; store its seed (`SX…`) as a secret. */
export function createSealingKeyPair(): SealingKeyPair {
  return createCurve();
}

/** The curve key pair of a seed (`SX…`), e.g. read from a mounted secret file. */
export function sealingKeyPairFromSeed(seed: string | Uint8Array): SealingKeyPair {
  try {
    return fromCurveSeed(typeof seed === "string" ? utf8Encoder.encode(seed.trim()) : seed);
  } catch (err) {
    throw new SealingError("not a curve (xkey) seed", { cause: err });
  }
}

/** True for a curve public key (`X…`). */
export function isSealingPublicKey(key: string): boolean {
  if (!key.startsWith("X")) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Seals `secrets` (field name → value) from `sender` to the holder of `recipientPublicKey`.
 * Each call uses a fresh random nonce, so sealing the same secrets twice gives different data.
 */
export function sealSecrets(
  secrets: Record<string, string>,
  sender: SealingKeyPair,
  recipientPublicKey: string,
): SealedSecrets {
  if (!isSealingPublicKey(recipientPublicKey)) {
    throw new SealingError("the recipient is not a curve (xkey) public key");
  }
  const parsed = secretsSchema.safeParse(secrets);
  if (!parsed.success) {
    throw new SealingError(`secrets must map names to strings: ${toIssues(parsed.error)[0]?.path}`);
  }
  try {
    const sealed = sender.seal(utf8Encoder.encode(JSON.stringify(parsed.data)), recipientPublicKey);
    return { sender: sender.getPublicKey(), data: Buffer.from(sealed).toString("base64") };
  } catch (err) {
    throw new SealingError("cannot seal: the sender is not a curve key pair", { cause: err });
  }
}

/** Options of {@link openSecrets}. */
export interface OpenSecretsOptions {
  /** Accept only these sender public keys (e.g. config-service's), refusing secrets sealed by others. */
  expectedSenders?: string[];
}

/**
 * Opens sealed secrets with the recipient's key pair. Throws {@link SealingError} when the key is
 * not the recipient's, the data was tampered with, or the sender is not an expected one.
 */
export function openSecrets(
  sealed: SealedSecrets,
  recipient: SealingKeyPair,
  options: OpenSecretsOptions = {},
): Record<string, string> {
  if (!sealedSecretsSchema.safeParse(sealed).success) throw new SealingError("malformed sealed secrets");
  if (options.expectedSenders !== undefined && !options.expectedSenders.includes(sealed.sender)) {
    throw new SealingError(`secrets were sealed by ${sealed.sender}, which is not an expected sender`);
  }
  let opened: Uint8Array | null;
  try {
    opened = recipient.open(Buffer.from(sealed.data, "base64"), sealed.sender);
  } catch (err) {
    throw new SealingError(`cannot open sealed secrets: ${(err as Error).message}`, { cause: err });
  }
  if (opened === null) {
    throw new SealingError("cannot open sealed secrets: wrong recipient key, wrong sender, or tampered data");
  }
  try {
    const parsed = secretsSchema.safeParse(JSON.parse(utf8Decoder.decode(opened)));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the error below
  }
  throw new SealingError("sealed secrets opened but do not hold a name → value map");
}
