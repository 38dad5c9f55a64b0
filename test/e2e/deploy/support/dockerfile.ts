/** A small Dockerfile reader: enough to check stages, instructions and what they copy. */

export interface Instruction {
  keyword: string;
  /** The text after the keyword and its `--flags`. */
  args: string;
  /** `--from=build` → `{ from: "build" }` */
  flags: Record<string, string>;
  line: number;
}

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (global ARGs). */
  preamble: Instruction[];
  stages: Stage[];
}

/** Joins continuation lines (`\` at the end; comment lines inside are dropped, as Docker does). */
function logicalLines(text: string): { text: string; line: number }[] {
  const lines = text.split("\n");
  const out: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    if (current === undefined && (trimmed === "" || trimmed.startsWith("#"))) return;
    if (current !== undefined && trimmed.startsWith("#")) return;
    const continued = /\\\s*$/.test(raw);
    const body = continued ? raw.replace(/\\\s*$/, "") : raw;
    if (current === undefined) current = { text: body.trim(), line: i + 1 };
    else current.text += ` ${body.trim()}`;
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current !== undefined) out.push(current);
  return out;
}

export function parseDockerfile(text: string): Dockerfile {
  const result: Dockerfile = { preamble: [], stages: [] };
  for (const { text: line, line: number } of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    let rest = match[2]!;
    const flags: Record<string, string> = {};
    for (;;) {
      const flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
      if (!flag) break;
      flags[flag[1]!] = flag[2] ?? "true";
      rest = rest.slice(flag[0].length);
    }
    const instruction: Instruction = { keyword, args: rest.trim(), flags, line: number };
    if (keyword === "FROM") {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`line ${number}: cannot read FROM ${instruction.args}`);
      result.stages.push({ base: from[1]!, ...(from[2] ? { name: from[2] } : {}), instructions: [] });
      continue;
    }
    const stage = result.stages.at(-1);
    if (stage) stage.instructions.push(instruction);
    else result.preamble.push(instruction);
  }
  return result;
}

/** The words of an instruction's arguments, from JSON (exec) form or split on blanks. */
export function argumentWords(instruction: Instruction): string[] {
  const text = instruction.args;
  if (text.startsWith("[")) return JSON.parse(text) as string[];
  return text.split(/\s+/).filter((w) => w !== "");
}

/** Expands `${NAME}` / `$NAME` with the values of global ARGs. */
export function expandArgs(text: string, preamble: Instruction[]): string {
  const values = new Map<string, string>();
  for (const instruction of preamble) {
    if (instruction.keyword !== "ARG") continue;
    const [name, value] = instruction.args.split("=", 2);
    if (name !== undefined && value !== undefined) values.set(name, value);
  }
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    return values.get((a ?? b)!) ?? whole;
  });
}
