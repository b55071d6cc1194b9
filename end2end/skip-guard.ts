import { basename } from "node:path";
import type { FullResult, Reporter, TestCase, TestResult } from "@playwright/test/reporter";

/**
 * Fails the run when a test is skipped in a spec this run may not skip, so the suite
 * cannot shrink quietly (a stray `test.skip`, a condition that drifted, a setting the
 * script forgot). The specs a run may skip are `S3DROP_E2E_MAY_SKIP` (comma-separated
 * file names, possibly none) when it is set, as `scripts/test.sh` does for each run;
 * otherwise those whose setup this environment lacks.
 */
export default class SkipGuard implements Reporter {
  private readonly maySkip = mayBeSkipped();
  private readonly skipped: string[] = [];
  private readonly refused: string[] = [];

  onTestEnd(test: TestCase, result: TestResult) {
    if (result.status !== "skipped") return;
    const spec = basename(test.location.file);
    (this.maySkip.includes(spec) ? this.skipped : this.refused).push(`${spec}: ${test.title}`);
  }

  onEnd(_result: FullResult): { status?: FullResult["status"] } | void {
    const allowed = this.maySkip.join(", ") || "none";
    if (this.refused.length === 0) {
      console.log(`skip guard: ${this.skipped.length} skipped, in specs this run may skip (${allowed})`);
      return;
    }
    console.error(
      `skip guard: ${this.refused.length} test(s) skipped that this run must run (may skip: ${allowed}):\n` +
        this.refused.map((t) => `  ${t}`).join("\n"),
    );
    return { status: "failed" };
  }
}

function mayBeSkipped(): string[] {
  const set = process.env.S3DROP_E2E_MAY_SKIP;
  if (set !== undefined) return set.split(",").map((s) => s.trim()).filter(Boolean);
  const env = process.env;
  return [
    env.S3DROP_CLUSTER_DIR === undefined && "cluster.spec.ts",
    env.S3DROP_PROXY_URL === undefined && "behind-proxy.spec.ts",
  ].filter((spec): spec is string => typeof spec === "string");
}
