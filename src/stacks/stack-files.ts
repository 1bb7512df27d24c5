import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformStack } from "cdktf";

/**
 * Writes `content` to `fileName` in the stack's folder whenever the stack is synthesized, beside
 * cdk.tf.json (or cdk.tf): for data the configuration reads with `file("${path.module}/<fileName>")`.
 * Through the stack's public synthesizer, after cdktf has written the stack.
 */
export function writeBesideStack(stack: TerraformStack, fileName: string, content: string): void {
  const synthesizeStack = stack.synthesizer;
  stack.synthesizer = {
    synthesize(session) {
      synthesizeStack.synthesize(session);
      writeFileSync(join(session.outdir, session.manifest.forStack(stack).workingDirectory, fileName), content);
    },
  };
}
