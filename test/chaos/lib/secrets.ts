/**
 * Looking for secrets where they must not be: every form a secret could leak in (as is, base64,
 * a PEM key's body), searched in byte buffers, text and whole directory trees.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** The byte patterns of one secret: the value, its base64, and for a PEM key a slice of its body. */
export interface SecretPattern {
  name: string;
  patterns: Buffer[];
}

export function secretPattern(name: string, value: string): SecretPattern {
  const patterns = [Buffer.from(value), Buffer.from(Buffer.from(value).toString("base64"))];
  const body = value
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("-----"))
    .join("");
  // A 40-character slice of a PEM body finds the key in any line wrapping of it.
  if (body.length >= 80) patterns.push(Buffer.from(body.slice(20, 60)));
  return { name, patterns: patterns.filter((p) => p.length >= 6) };
}

/** Names of the secrets found in `data`. */
export function secretsIn(data: Uint8Array | string, secrets: readonly SecretPattern[]): string[] {
  const buffer = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.length);
  return secrets.filter((s) => s.patterns.some((p) => buffer.includes(p))).map((s) => s.name);
}

/** Every regular file under `dir`. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** `file: secret` for every secret found in a file under `dir`, and how many bytes were scanned. */
export async function scanTree(
  dir: string,
  secrets: readonly SecretPattern[],
): Promise<{ found: string[]; bytes: number; files: number }> {
  const found: string[] = [];
  let bytes = 0;
  const files = await filesUnder(dir);
  for (const file of files) {
    const data = await readFile(file);
    bytes += data.length;
    for (const name of secretsIn(data, secrets)) found.push(`${file}: ${name}`);
  }
  return { found, bytes, files: files.length };
}
