/**
 * `terraform fmt`'s whitespace rules (HCL's hclwrite formatter, as Terraform 1.11 runs it) for the
 * HCL this app writes, so `cdktf synth --hcl` and `npm run synth:hcl` write formatted files with
 * no Terraform binary, and cdktf-cli's own formatting pass (hclwrite alone) leaves them as they are.
 *
 * Like hclwrite it changes whitespace only: it re-indents each line by its brackets, puts single
 * spaces between tokens by the same rules, and aligns the `=` of consecutive one-line attributes.
 * What `terraform fmt` rewrites beyond whitespace (a lone `"${x}"` to `x`, a quoted variable type)
 * the renderer never writes (src/hcl/render.ts). Comments are not supported: the app writes none.
 */

type TokenType =
  | "newline"
  | "ident"
  | "number"
  | "oquote"
  | "quotedlit"
  | "cquote"
  | "oheredoc"
  | "stringlit"
  | "cheredoc"
  | "interp"
  | "control"
  | "seqend"
  | "obrace"
  | "cbrace"
  | "obrack"
  | "cbrack"
  | "oparen"
  | "cparen"
  | "comma"
  | "dot"
  | "equal"
  | "colon"
  | "doublecolon"
  | "question"
  | "ellipsis"
  | "minus"
  | "bang"
  | "arith"
  | "compare"
  | "logic"
  | "arrow";

interface Token {
  readonly type: TokenType;
  readonly text: string;
  spacesBefore: number;
}

/** Tokens that sit before a minus only when it is a negation (hclwrite's heuristic). */
const BEFORE_NEGATION = new Set<TokenType | "nil">(["nil", "oparen", "obrace", "obrack", "equal", "colon", "comma", "question", "arith", "minus", "compare", "logic", "bang"]);

/** `hcl` with the whitespace `terraform fmt` would give it. */
export function formatHcl(hcl: string): string {
  const lines = linesOf(tokenize(hcl));
  formatIndent(lines);
  formatSpaces(lines);
  formatCells(lines);
  return lines.map((line) => [...line.lead, ...line.assign].map((t) => " ".repeat(t.spacesBefore) + t.text).join("")).join("");
}

interface Line {
  lead: Token[];
  assign: Token[];
}

function bracketChange(token: Token): number {
  switch (token.type) {
    case "obrace":
    case "obrack":
    case "oparen":
    case "interp":
    case "control":
      return 1;
    case "cbrace":
    case "cbrack":
    case "cparen":
    case "seqend":
      return -1;
    default:
      return 0;
  }
}

function linesOf(tokens: Token[]): Line[] {
  const lines: Line[] = [];
  let current: Token[] = [];
  for (const token of tokens) {
    current.push(token);
    if (token.type === "newline") {
      lines.push({ lead: current, assign: [] });
      current = [];
    }
  }
  if (current.length > 0) lines.push({ lead: current, assign: [] });
  for (const line of lines) {
    const equal = line.lead.findIndex((token, i) => i > 0 && token.type === "equal");
    // A `=` starts an assign cell only when its right-hand side closes on the same line.
    if (equal > 0 && line.lead.slice(equal).reduce((sum, token) => sum + bracketChange(token), 0) === 0) {
      line.assign = line.lead.slice(equal);
      line.lead = line.lead.slice(0, equal);
    }
  }
  return lines;
}

function formatIndent(lines: Line[]): void {
  const indents: number[] = [];
  for (const line of lines) {
    if (line.lead.length === 0) continue;
    if (line.lead[0].type === "newline") {
      line.lead[0].spacesBefore = 0;
      continue;
    }
    let net = 0;
    for (const token of line.lead) {
      net += bracketChange(token);
      if (token.type === "oheredoc") break;
    }
    for (const token of line.assign) net += bracketChange(token);
    if (net > 0) {
      line.lead[0].spacesBefore = 2 * indents.length;
      indents.push(net);
    } else {
      let closed = -net;
      while (closed > 0 && indents.length > 0) {
        const top = indents[indents.length - 1];
        if (closed >= top) {
          closed -= top;
          indents.pop();
        } else {
          indents[indents.length - 1] = top - closed;
          closed = 0;
        }
      }
      line.lead[0].spacesBefore = 2 * indents.length;
    }
  }
}

function formatSpaces(lines: Line[]): void {
  for (const line of lines) {
    for (const cell of [line.lead, line.assign]) {
      if (cell === line.assign && cell.length > 0) cell[0].spacesBefore = 1;
      for (let i = 0; i < cell.length - 1; i += 1) {
        cell[i + 1].spacesBefore = spaceAfter(cell[i], i > 0 ? cell[i - 1] : undefined, cell[i + 1]) ? 1 : 0;
      }
    }
  }
}

function columns(tokens: readonly Token[]): number {
  return tokens.reduce((sum, token) => sum + token.spacesBefore + [...token.text].length, 0);
}

function formatCells(lines: Line[]): void {
  let chain: Line[] = [];
  const close = () => {
    const widest = Math.max(...chain.map((line) => columns(line.lead)));
    for (const line of chain) line.assign[0].spacesBefore = widest - columns(line.lead) + 1;
    chain = [];
  };
  for (const line of lines) {
    if (line.assign.length === 0) {
      if (chain.length > 0) close();
    } else chain.push(line);
  }
  if (chain.length > 0) close();
}

/** hclwrite's spaceAfterToken(). */
function spaceAfter(subject: Token, before: Token | undefined, after: Token): boolean {
  const templateText = new Set<TokenType>(["quotedlit", "stringlit", "oquote", "oheredoc"]);
  if (after.type === "newline") return false;
  if (subject.type === "ident" && after.type === "oparen") return false;
  if ((subject.type === "ident" && after.type === "doublecolon") || (subject.type === "doublecolon" && after.type === "ident")) return false;
  if (subject.type === "dot" || after.type === "dot") return false;
  if (after.type === "comma" || after.type === "ellipsis") return false;
  if (subject.type === "comma") return true;
  if (templateText.has(subject.type) || ["quotedlit", "stringlit", "cquote", "cheredoc"].includes(after.type)) return false;
  if (subject.type === "ident" && subject.text === "in" && before?.type === "ident") return true;
  if (after.type === "obrack" && (subject.type === "ident" || subject.type === "number" || bracketChange(subject) < 0)) return false;
  if (subject.type === "bang") return false;
  if (subject.type === "minus") return !BEFORE_NEGATION.has(before?.type ?? "nil");
  if (subject.type === "obrace" || after.type === "cbrace") return !(subject.type === "obrace" && after.type === "cbrace");
  if ((subject.type === "interp" || subject.type === "control") && after.type === "obrace") return true;
  if (subject.type === "cbrace" && after.type === "seqend") return true;
  if (subject.type === "seqend" && (after.type === "interp" || after.type === "control")) return false;
  if (bracketChange(subject) > 0) return false;
  if (bracketChange(after) < 0) return false;
  return true;
}

// ---------------------------------------------------------------- tokenizer

type Mode = { kind: "expression"; closer: "cbrace" | "seqend" | "none" } | { kind: "quoted" } | { kind: "heredoc"; delimiter: string; lineStart: boolean };

const PUNCTUATION: readonly [string, TokenType][] = [
  ["...", "ellipsis"],
  ["::", "doublecolon"],
  ["==", "compare"],
  ["!=", "compare"],
  ["<=", "compare"],
  [">=", "compare"],
  ["&&", "logic"],
  ["||", "logic"],
  ["=>", "arrow"],
  ["<", "compare"],
  [">", "compare"],
  ["+", "arith"],
  ["*", "arith"],
  ["/", "arith"],
  ["%", "arith"],
  ["-", "minus"],
  ["!", "bang"],
  ["?", "question"],
  [":", "colon"],
  ["=", "equal"],
  [",", "comma"],
  [".", "dot"],
  ["[", "obrack"],
  ["]", "cbrack"],
  ["(", "oparen"],
  [")", "cparen"],
];

/** The tokens of HCL native syntax (Terraform's subset, without comments), whitespace dropped. */
export function tokenize(hcl: string): Token[] {
  const tokens: Token[] = [];
  const modes: Mode[] = [{ kind: "expression", closer: "none" }];
  const push = (type: TokenType, text: string) => tokens.push({ type, text, spacesBefore: 0 });
  const fail = (message: string, at: number): never => {
    throw new Error(`cannot format HCL: ${message} at offset ${at}: ${JSON.stringify(hcl.slice(at, at + 40))}`);
  };
  let i = 0;
  while (i < hcl.length) {
    const mode = modes[modes.length - 1];
    if (mode.kind === "quoted" || mode.kind === "heredoc") {
      i = templateToken(hcl, i, mode, modes, push, fail);
      continue;
    }
    const c = hcl[i];
    if (c === " " || c === "\t") {
      i += 1;
    } else if (c === "\n") {
      push("newline", "\n");
      i += 1;
    } else if (c === "#" || hcl.startsWith("//", i) || hcl.startsWith("/*", i)) {
      fail("comments are not supported", i);
    } else if (c === '"') {
      push("oquote", '"');
      modes.push({ kind: "quoted" });
      i += 1;
    } else if (hcl.startsWith("<<", i) && /^<<-?[A-Za-z_][A-Za-z0-9_-]*\n/.test(hcl.slice(i, i + 200))) {
      const match = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)\n/.exec(hcl.slice(i))!;
      push("oheredoc", match[0]);
      modes.push({ kind: "heredoc", delimiter: match[1], lineStart: true });
      i += match[0].length;
    } else if (c === "{") {
      push("obrace", "{");
      modes.push({ kind: "expression", closer: "cbrace" });
      i += 1;
    } else if (c === "}" || (c === "~" && hcl[i + 1] === "}")) {
      const closer = mode.closer === "none" ? fail("unbalanced }", i) : mode.closer;
      const text = c === "~" ? "~}" : "}";
      push(closer, text);
      modes.pop();
      i += text.length;
    } else if (/[0-9]/.test(c)) {
      const text = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(hcl.slice(i))![0];
      push("number", text);
      i += text.length;
    } else if (/[\p{ID_Start}_]/u.test(c)) {
      const text = /^[\p{ID_Start}_][\p{ID_Continue}-]*/u.exec(hcl.slice(i))![0];
      push("ident", text);
      i += text.length;
    } else {
      const found = PUNCTUATION.find(([text]) => hcl.startsWith(text, i));
      if (!found) fail("unexpected character", i);
      push(found![1], found![0]);
      i += found![0].length;
    }
  }
  if (modes.length !== 1) fail("unterminated expression or string", hcl.length);
  return tokens;
}

/** One token of a quoted string or a heredoc; returns the index after it. */
function templateToken(
  hcl: string,
  start: number,
  mode: Extract<Mode, { kind: "quoted" | "heredoc" }>,
  modes: Mode[],
  push: (type: TokenType, text: string) => void,
  fail: (message: string, at: number) => never,
): number {
  if (mode.kind === "heredoc" && mode.lineStart) {
    const end = hcl.indexOf("\n", start);
    const line = hcl.slice(start, end < 0 ? hcl.length : end);
    if (line.trimStart() === mode.delimiter) {
      push("cheredoc", line);
      modes.pop();
      return start + line.length;
    }
  }
  const sequence = /^[$%]\{~?/.exec(hcl.slice(start, start + 3));
  if (sequence) {
    push(sequence[0][0] === "$" ? "interp" : "control", sequence[0]);
    if (mode.kind === "heredoc") mode.lineStart = false;
    modes.push({ kind: "expression", closer: "seqend" });
    return start + sequence[0].length;
  }
  if (mode.kind === "quoted" && hcl[start] === '"') {
    push("cquote", '"');
    modes.pop();
    return start + 1;
  }
  // A run of literal text: up to a sequence, the closing quote, or (in a heredoc) the end of the line.
  let i = start;
  while (i < hcl.length) {
    const c = hcl[i];
    if ((c === "$" || c === "%") && hcl[i + 1] === c && hcl[i + 2] === "{") i += 3;
    else if ((c === "$" || c === "%") && hcl[i + 1] === "{") break;
    else if (mode.kind === "quoted" && c === "\\") i += 2;
    else if (mode.kind === "quoted" && c === '"') break;
    else if (c === "\n") {
      if (mode.kind === "quoted") fail("line break in a quoted string", i);
      i += 1;
      break;
    } else i += 1;
  }
  if (i > hcl.length) fail("unterminated escape", start);
  push(mode.kind === "quoted" ? "quotedlit" : "stringlit", hcl.slice(start, i));
  if (mode.kind === "heredoc") mode.lineStart = hcl[i - 1] === "\n";
  return i;
}
