import { rmSync } from "node:fs";

/** Removes the run's data folder (the servers' stores), made in `playwright.config.ts`. */
export default function globalTeardown() {
  const root = process.env.S3DROP_E2E_DATA_DIR;
  if (root) rmSync(root, { recursive: true, force: true });
}
