#!/usr/bin/env node
// Entry shim: runs the built CLI as `fedview` (build first with `npm run build` at the repository root).
import { runCli } from "../dist/src/index.js";

process.exitCode = await runCli(process.argv.slice(2), { invokedAs: "fedview" });
