/**
 * Runs once per `jest` run, before any test file: makes the Python test peers' virtual
 * environments ready (created on first use, reused afterwards; see support/peers.ts). Done here
 * so parallel test workers never race to build them. What cannot be made is recorded for the
 * gates, which then skip loudly, or fail under CI=true. It also fills Terraform's shared provider
 * cache once, so parallel `terraform init`s never race to create it.
 */
import { warmProviderCache } from "./terraform";
import { ensureVenv, PEER_ENVIRONMENTS, PeerEnvironment, peersSkipped, prefectReference, recordUnavailable } from "./peers";

export default async function globalSetup(): Promise<void> {
  if (peersSkipped()) return;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cacheProblem = warmProviderCache();
  if (cacheProblem) log(`!!! ${cacheProblem} !!!`);
  const reasons: Partial<Record<PeerEnvironment, string>> = {};
  await Promise.all(
    PEER_ENVIRONMENTS.map(async (name) => {
      const reason = await ensureVenv(name, log);
      if (reason) reasons[name] = reason;
    }),
  );
  recordUnavailable(reasons);
  // Dumped once here rather than by several test workers at once on a first run.
  if (!reasons.prefect) {
    try {
      prefectReference();
    } catch (error) {
      log(`!!! ${(error as Error).message} (the tests that need it will fail) !!!`);
    }
  }
}
