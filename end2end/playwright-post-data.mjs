// Makes Playwright's Chromium sessions leave large request bodies out of DevTools'
// network events, as a browser nobody is inspecting does.
//
// Playwright enables DevTools' Network domain on every page with no `maxPostDataSize`,
// and this Chromium then copies every request body that is not a file into the
// `Network.requestWillBeSent` event, base64-encoded: an 8 MiB part the page read costs
// ~45 MB of protocol messages, and the browser uploads such bodies at 12 MiB/s with
// ~120 s of CPU per GiB instead of ~160 MiB/s and ~9 s (measured 2026-12-04, see
// bench/README.md). People's browsers have no DevTools attached, so the suite and the
// benchmark would measure Playwright rather than s3drop. With a limit of 1 MiB the
// page's calls (JSON) are still seen whole by tests that read `request.postData()`;
// file parts (5 MiB and more) are not. Playwright has no option for it
// (microsoft/playwright#6479 is about the same field), so its one call is rewritten.
//
// Idempotent; fails loudly if a Playwright upgrade moved the call, rather than letting
// the suite measure the wrong thing unnoticed. Run by `npm ci` (postinstall) and by
// scripts/install.sh.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const MAX_POST_DATA = 1024 * 1024;
const require = createRequire(import.meta.url);
const file = join(dirname(require.resolve("playwright-core/package.json")), "lib/server/chromium/crNetworkManager.js");
const source = readFileSync(file, "utf8");
const original = 'session.send("Network.enable")';
const patched = `session.send("Network.enable", { maxPostDataSize: ${MAX_POST_DATA} })`;
if (source.includes(patched)) process.exit(0);
if (source.split(original).length !== 2) {
  console.error(`${file}: expected one ${original}; Playwright changed, see end2end/playwright-post-data.mjs`);
  process.exit(1);
}
writeFileSync(file, source.replace(original, patched));
console.log(`Playwright's Chromium sessions leave request bodies over ${MAX_POST_DATA} bytes out of DevTools' events`);
