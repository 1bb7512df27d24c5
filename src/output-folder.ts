import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { IManifest, Manifest } from "cdktf";
import { BASE_JOB_TEMPLATE_FILE } from "./work-pool/work-pool-stack";

/**
 * What synthesis writes into a stack folder (cdktf's files, and the work-pool stack's template file); anything else
 * there (state, `.terraform/`, plans, the lock file) is the user's.
 */
const ASSETS = "assets";
export const SYNTHESIZED_STACK_FILES: readonly string[] = ["cdk.tf.json", "cdk.tf", Manifest.stackMetadataPath, ASSETS, BASE_JOB_TEMPLATE_FILE];
/** The stack's Terraform file, JSON or HCL. */
const STACK_FILES = ["cdk.tf.json", "cdk.tf"];

/** A mistake about the output folder: said in one line, nothing written. */
export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputFolderError";
  }
}

/** A stack folder an earlier synthesis wrote that this one does not, left in place because it holds the user's files. */
export interface KeptStackFolder {
  /** Path of the folder, as given (`<outdir>/stacks/<name>`). */
  readonly folder: string;
  /** Its entries that synthesis did not write, sorted: `terraform.tfstate`, `.terraform`, ... */
  readonly userFiles: readonly string[];
}

export interface PublishOptions {
  /**
   * What to do about a stack folder of an earlier synthesis that holds the user's files (Terraform state, `.terraform/`):
   * "keep" leaves it whole and reports it; "refuse" fails before anything is written, for `cdktf synth`, whose CLI
   * deletes every folder under `stacks/` that the new manifest does not list, state included.
   */
  readonly keptFolders: "keep" | "refuse";
  /**
   * Treat every folder under `stacks/` as an earlier run's stack, not only those the previous manifest lists or that
   * hold a stack file (cdktf-cli deletes them all).
   * @default false
   */
  readonly everyStackFolder?: boolean;
}

export interface Published {
  /** This run's manifest, as cdktf wrote it to `manifest.json`. */
  readonly manifest: IManifest;
  /** Stack folders of earlier runs left in place (options.keptFolders "keep"). */
  readonly kept: readonly KeptStackFolder[];
}

/**
 * Synthesizes into a staging folder inside `outdir` (`synthesize(staging)` returns the manifest it wrote) and, only
 * when that succeeded, makes `outdir` hold exactly this run's stacks: each stack folder gets this run's files (the
 * other format's file, an HCL run's metadata.json and old assets go), manifest.json is replaced, and the stack
 * folders earlier runs wrote that this one did not are removed. Only what synthesis writes is ever deleted: a folder
 * that also holds the user's files (Terraform state above all) stays whole and is returned in `kept`. A failed
 * synthesis leaves `outdir` as it was (a folder it had to create is removed again).
 */
export function publishSynthesis(outdir: string, synthesize: (staging: string) => IManifest, options: PublishOptions): Published {
  const previous = previousStackNames(outdir, options.everyStackFolder ?? false);
  const created = createFolder(outdir);
  const staging = mkdtempSync(join(outdir, ".synth-"));
  try {
    const manifest = synthesize(staging);
    const current = new Set(Object.keys(manifest.stacks));
    const vanished = previous.filter((name) => !current.has(name)).map((name) => stackFolder(outdir, name));
    const kept = vanished.map(keptFolder).filter((folder): folder is KeptStackFolder => folder !== undefined);
    if (options.keptFolders === "refuse" && kept.length > 0) throw new OutputFolderError(refusal(kept));
    for (const { synthesizedStackPath } of Object.values(manifest.stacks)) {
      moveStackFiles(join(staging, dirname(synthesizedStackPath)), join(outdir, dirname(synthesizedStackPath)));
    }
    renameSync(join(staging, Manifest.fileName), join(outdir, Manifest.fileName));
    const keptFolders = new Set(kept.map(({ folder }) => folder));
    for (const folder of vanished) if (!keptFolders.has(folder)) rmSync(folder, { recursive: true, force: true });
    return { manifest, kept };
  } catch (error) {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** One line per kept folder, for the user. */
export function describeKept({ folder, userFiles }: KeptStackFolder): string {
  const state = userFiles.some((name) => name.startsWith("terraform.tfstate")) ? " (Terraform state of real infrastructure)" : "";
  return (
    `${folder} is no longer synthesized but holds ${userFiles.join(", ")}${state}: left in place. ` +
    `Destroy its resources (terraform -chdir=${folder} destroy) or move the folder away, then delete it.`
  );
}

function refusal(kept: readonly KeptStackFolder[]): string {
  return (
    `cdktf synth deletes every folder under stacks/ that this synthesis does not write, and these hold files synthesis did not write: ` +
    `${kept.map(({ folder, userFiles }) => `${folder} (${userFiles.join(", ")})`).join("; ")}. ` +
    "Destroy or move them first, or run node synth.js, which keeps them."
  );
}

/** Creates `outdir` and its missing parents; returns the topmost folder it created, if any. */
function createFolder(outdir: string): string | undefined {
  let stat;
  try {
    stat = statSync(outdir);
  } catch {
    stat = undefined;
  }
  if (stat !== undefined && !stat.isDirectory()) throw new OutputFolderError(`output folder ${outdir} is a file, not a folder`);
  try {
    return mkdirSync(outdir, { recursive: true });
  } catch (error) {
    throw new OutputFolderError(`cannot create output folder ${outdir}: ${(error as Error).message}`);
  }
}

/**
 * The stacks earlier syntheses wrote into `outdir`: those its manifest.json lists and the folders under stacks/ that
 * hold a stack file (with `everyFolder`, every folder there). A manifest.json that is not cdktf's means `outdir` is
 * someone else's folder: refused.
 */
function previousStackNames(outdir: string, everyFolder: boolean): string[] {
  const names = new Set<string>();
  const path = join(outdir, Manifest.fileName);
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    let stacks: unknown;
    try {
      stacks = (JSON.parse(text) as { stacks?: unknown }).stacks;
    } catch {
      stacks = undefined;
    }
    if (typeof stacks !== "object" || stacks === null || Array.isArray(stacks)) {
      throw new OutputFolderError(`${path} is not a cdktf manifest: choose an empty folder or an earlier synthesis's output folder`);
    }
    for (const name of Object.keys(stacks)) names.add(name);
  }
  // Folders holding a stack file were written by a synthesis: an earlier run's stack kept for its state is found
  // again (and removed once it holds nothing else), while a folder of the user's under stacks/ is left alone.
  let folders: string[];
  try {
    folders = readdirSync(join(outdir, Manifest.stacksFolder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    folders = [];
  }
  for (const name of folders) {
    if (everyFolder || STACK_FILES.some((file) => existsSync(join(stackFolder(outdir, name), file)))) names.add(name);
  }
  // A name that is not a single folder name would lead outside stacks/: never ours to delete.
  return [...names].filter((name) => name !== "" && name !== "." && name !== ".." && !/[/\\]/.test(name)).sort();
}

const stackFolder = (outdir: string, name: string) => join(outdir, Manifest.stacksFolder, name);

function keptFolder(folder: string): KeptStackFolder | undefined {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return undefined;
  }
  const userFiles = entries.filter((name) => !SYNTHESIZED_STACK_FILES.includes(name)).sort();
  return userFiles.length > 0 ? { folder, userFiles } : undefined;
}

/** Replaces what synthesis wrote in `to` with what it wrote in `from`, leaving everything else in `to` alone. */
function moveStackFiles(from: string, to: string): void {
  let existing: string[];
  try {
    existing = readdirSync(to);
  } catch {
    // A new stack folder: moved whole.
    mkdirSync(dirname(to), { recursive: true });
    renameSync(from, to);
    return;
  }
  const written = readdirSync(from);
  // A file is replaced by the rename; a folder (assets) or the other format's file has to go first.
  for (const name of existing) {
    if (SYNTHESIZED_STACK_FILES.includes(name) && (!written.includes(name) || name === ASSETS)) rmSync(join(to, name), { recursive: true, force: true });
  }
  for (const name of written) renameSync(join(from, name), join(to, name));
  rmdirSync(from);
}
