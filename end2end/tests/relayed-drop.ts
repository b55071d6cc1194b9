import { test as base } from "@playwright/test";
import { external } from "../playwright.config";
import { partNumber, scratchDir } from "./helpers";
import { allowOrigin, freePort, kill, startServer } from "./own-server";
import { Relay } from "./relay";

// A test's own drop behind relays (`relay.ts`), for real faults between the browser and
// the run's store (the embedded one, Garage or SeaweedFS), and between the browser and
// the server. `faults.spec.ts` and `failures.spec.ts` use it.

/** A drop of this test's own: its server behind `front`, its store behind `store`. */
export interface Drop {
  /** In front of the server (the page's origin; the embedded store is there too). */
  front: Relay;
  /** In front of the store the page sends parts to: `front` for the embedded store. */
  store: Relay;
}

export const test = base.extend<{ drop: Drop }>({
  drop: async ({}, use) => {
    const port = await freePort();
    const front = await Relay.start(`http://127.0.0.1:${port}`);
    const store = external ? await Relay.start(process.env.AWS_ENDPOINT_URL!) : front;
    const args = ["--public-url", front.url];
    if (external) {
      args.push("--store-public-url", store.url);
      allowOrigin(front.url);
    }
    const server = await startServer(port, scratchDir("server"), { args, store: "the run's" });
    try {
      await use({ front, store });
    } finally {
      await kill(server);
      await front.close();
      if (store !== front) await store.close();
    }
  },
});

/** The store PUT of part `n` of a multipart upload. */
export const part = (n: number) => (method: string, url: URL) => method === "PUT" && partNumber(url) === n;
/** A store PUT of the file `name`. */
export const putOf = (name: string) => (method: string, url: URL) => method === "PUT" && url.pathname.endsWith(`/${name}`);
/** What became of each try: the fault made of it, or the answer it got. */
export const outcomes = (relay: Relay, match: (method: string, url: URL) => boolean) =>
  relay.seen(match).map((a) => a.fault ?? a.status);
