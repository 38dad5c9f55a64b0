import { createHash } from "node:crypto";
import { type FSWatcher, watch as watchDirectory } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** The content fingerprint of a file as the watcher compares it: a SHA-256, or `missing:<code>`. */
export type FileFingerprint = string;

export interface FileWatcherOptions {
  /**
   * Every file is also re-read at this interval, as a safety net where change events are not delivered
   * (network filesystems, a directory created after the watch started). Default 10 000; 0 turns it off.
   */
  pollIntervalMs?: number;
  /** A burst of events (an editor's or kubelet's atomic replace) is read once, this long after it starts. */
  debounceMs?: number;
}

/**
 * Watches files for content changes — certificate, key and kubeconfig rotation — including the atomic
 * replace of a Kubernetes Secret volume (`..data` symlink swap), which changes the directory, not the file.
 */
export interface FileWatcher extends AsyncDisposable {
  /**
   * Calls `onChange` whenever the content of `path` differs from what it was last seen as (appearing and
   * vanishing count). `seen` is the fingerprint of the content the caller read, so a change that happens
   * between that read and this call is reported too. Dispose the result to stop.
   */
  watch(path: string, seen: FileFingerprint | undefined, onChange: () => void): Disposable;
  /** Number of distinct files watched. */
  size(): number;
}

/** Fingerprint of a file's content, as the watcher computes it. */
export function fingerprintContent(content: string | Buffer): FileFingerprint {
  return createHash("sha256").update(content).digest("hex");
}

/** Reads a file and returns its fingerprint, `missing:<code>` when it cannot be read. */
export async function fingerprintFile(path: string): Promise<FileFingerprint> {
  try {
    return fingerprintContent(await readFile(path));
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? "EIO"}`;
  }
}

interface WatchedFile {
  path: string;
  fingerprint: FileFingerprint | undefined;
  listeners: Set<() => void>;
  timer: NodeJS.Timeout | undefined;
  checking: Promise<void> | undefined;
}

/** Creates a file watcher; dispose it to close every directory watch and timer. */
export function createFileWatcher(options: FileWatcherOptions = {}): FileWatcher {
  const pollIntervalMs = options.pollIntervalMs ?? 10_000;
  const debounceMs = options.debounceMs ?? 50;
  const files = new Map<string, WatchedFile>();
  const directories = new Map<string, FSWatcher>();
  let closed = false;

  const check = (file: WatchedFile): Promise<void> => {
    file.checking ??= (async () => {
      const fingerprint = await fingerprintFile(file.path);
      file.checking = undefined;
      if (closed || files.get(file.path) !== file || fingerprint === file.fingerprint) return;
      file.fingerprint = fingerprint;
      for (const listener of [...file.listeners]) listener();
    })();
    return file.checking;
  };

  const schedule = (file: WatchedFile): void => {
    if (file.timer !== undefined || closed) return;
    file.timer = setTimeout(() => {
      file.timer = undefined;
      void check(file);
    }, debounceMs);
    file.timer.unref();
  };

  const ensureDirectoryWatch = (directory: string): void => {
    if (directories.has(directory) || closed) return;
    try {
      const watcher = watchDirectory(directory, { persistent: false }, () => {
        for (const file of files.values()) if (dirname(file.path) === directory) schedule(file);
      });
      watcher.on("error", () => {
        // The directory went away; the poll re-reads the files and re-establishes the watch.
        watcher.close();
        directories.delete(directory);
      });
      directories.set(directory, watcher);
    } catch {
      // The directory does not exist yet: the poll covers it until it does.
    }
  };

  const releaseDirectory = (directory: string): void => {
    for (const file of files.values()) if (dirname(file.path) === directory) return;
    directories.get(directory)?.close();
    directories.delete(directory);
  };

  const poll =
    pollIntervalMs > 0
      ? setInterval(() => {
          for (const file of files.values()) {
            ensureDirectoryWatch(dirname(file.path));
            void check(file);
          }
        }, pollIntervalMs).unref()
      : undefined;

  return {
    watch(path, seen, onChange) {
      const absolute = resolve(path);
      let file = files.get(absolute);
      if (!file) {
        file = { path: absolute, fingerprint: seen, listeners: new Set(), timer: undefined, checking: undefined };
        files.set(absolute, file);
        ensureDirectoryWatch(dirname(absolute));
        // Catches a change between the caller's read and now.
        schedule(file);
      }
      const entry = file;
      const listener = () => onChange();
      entry.listeners.add(listener);
      if (seen !== undefined && entry.fingerprint !== undefined && seen !== entry.fingerprint) {
        // This caller read an older (or newer) content than the watcher last saw: tell it, and re-read.
        queueMicrotask(listener);
        schedule(entry);
      }
      return {
        [Symbol.dispose]() {
          entry.listeners.delete(listener);
          if (entry.listeners.size > 0 || files.get(absolute) !== entry) return;
          files.delete(absolute);
          if (entry.timer) clearTimeout(entry.timer);
          releaseDirectory(dirname(absolute));
        },
      };
    },
    size: () => files.size,
    async [Symbol.asyncDispose]() {
      closed = true;
      if (poll) clearInterval(poll);
      for (const file of files.values()) if (file.timer) clearTimeout(file.timer);
      for (const watcher of directories.values()) watcher.close();
      directories.clear();
      files.clear();
    },
  };
}
