/** Paths and files of the repository, for the tests of what `deploy/` ships. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

/** The repository root (this file is test/e2e/deploy/support/repo.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, "../../../..");

/** An absolute path from a repository-relative one. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function readRepoFile(path: string): string {
  return readFileSync(repoPath(path), "utf8");
}

/** Every YAML document of a file, as plain values; a syntax error fails loudly with the file name. */
export function readYamlDocuments(path: string): unknown[] {
  const documents = parseAllDocuments(readRepoFile(path), { merge: true });
  return documents
    .map((document) => {
      if (document.errors.length > 0) {
        throw new Error(`${path}: ${document.errors.map((e) => e.message).join("; ")}`);
      }
      return document.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

/** Repository-relative paths of the files under `dir` whose names match `pattern`, sorted. */
export function filesUnder(dir: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const walk = (abs: string): void => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const full = join(abs, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (pattern.test(entry.name)) found.push(relative(REPO_ROOT, full));
    }
  };
  walk(repoPath(dir));
  return found.sort();
}

/** The services that have an entry point, i.e. the valid values of the image's `SERVICE`. */
export function servicesWithEntryPoint(): string[] {
  return readdirSync(repoPath("services"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(repoPath("services", entry.name, "src", "main.ts")))
    .map((entry) => entry.name)
    .sort();
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The development xkey pairs of the compose stack (a test checks each seed matches its public key). */
export const DEV_KEYS = {
  connectorSeed: "SXACBEBAR7ZHIDB6M7TCIBLGPCWDXUPTVV6KGIVXH4H7EQSMEHPGAZI2SI",
  connectorPublic: "XBCMT2LFT7YPL2WJDXCD6L6BHZO4BPS4FI7KY4XAXW5W37PT3XRHUBO7",
  configSeed: "SXAKGEZRA3S6I3WYSBMGX3BDKJBISPCX6PLDZOG335D2Y2XMK4U6KECJA4",
  configPublic: "XDQ3JEB3H6B4AISIWBDPX6IPAF37EZTBQ6TCCJY5MMIY2WUMSI7RW5T4",
} as const;
