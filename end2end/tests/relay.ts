import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sleep } from "./helpers";

// A relay between the browser and a server or store, on a port of its own, that passes
// requests on untouched (the Host header too, so presigned signatures still hold) and
// makes real faults of the ones a test asks for: connections cut or stalled in the
// middle of a body, and the answers stores and proxies give when overloaded. Written
// here (a few lines over node:http) because fault proxies such as Toxiproxy act on
// whole connections, not on chosen requests, and do not count what is in flight.

/** What the relay makes of a request it matches. */
export type Fault =
  /** passes half the body on, then resets the connection (TCP RST) */
  | "reset"
  /** passes half the body on, then stops reading it until the client gives up */
  | "stall"
  /** answers 503 SlowDown with S3's XML body */
  | "slow-down"
  /** answers 429 with `Retry-After: 2` */
  | "too-many"
  /** answers a proxy's own HTML 502 page, as nginx does while its upstream restarts */
  | "bad-gateway"
  /** answers 500 InternalError with S3's XML body */
  | "internal-error"
  /** answers 403 "Request has expired", as S3 does to a presigned URL past its time */
  | "expired"
  /** answers 400 InvalidRequest, a refusal that sending again cannot mend */
  | "bad-request"
  /** answers s3drop's 409 `PartToSendAgain`, as the server does when a store completes
   * with a cut try of a part it does not list (Garage; tests/upload_api makes it real) */
  | "part-to-send-again"
  /** flips one byte in the middle of the body on its way to the upstream */
  | "corrupt"
  /** passes the request on and lets the upstream answer, then resets the connection
   * instead of passing the answer back: the request took effect, its answer was lost */
  | "lose-answer";

/** One request as the relay saw it. */
export interface Arrival {
  method: string;
  url: URL;
  /** Requests of this method in flight through the relay, this one included. */
  inFlight: number;
  fault?: Fault;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** The status the browser got, once answered. */
  status?: number;
  /** When the answer went back (ms since the epoch). */
  answeredAt?: number;
  /** When a "stall" fault stopped reading the body (ms since the epoch). */
  stalledAt?: number;
}

type Match = (method: string, url: URL) => boolean;

const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`;
const TOO_MANY = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>TooManyRequests</Code><Message>Too many requests; try again later.</Message></Error>`;
const INTERNAL_ERROR = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`;
const EXPIRED = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`;
const BAD_REQUEST = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidRequest</Code><Message>The request is not valid.</Message></Error>`;
const BAD_GATEWAY = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>`;

/** A relay to one origin; see the top of this file. */
export class Relay {
  /** Every request, in the order it arrived. */
  readonly arrivals: Arrival[] = [];
  private faults: { match: Match; fault: Fault; times: number }[] = [];
  private delays: { match: Match; ms: number }[] = [];
  private inFlight = new Map<string, number>();
  private server!: Server;
  private target!: URL;

  /** A relay to `target` (an origin), listening on a port the system chooses. */
  static async start(target: string): Promise<Relay> {
    const relay = new Relay();
    relay.target = new URL(target);
    relay.server = createServer((req, res) => void relay.handle(req, res));
    await new Promise<void>((resolve) => relay.server.listen(0, "127.0.0.1", resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The relay's origin, as the browser reaches it. */
  get url(): string {
    return `http://localhost:${this.port}`;
  }

  /** Makes `fault` of the next `times` requests that `match`; answers a way to stop. */
  fault(match: Match, fault: Fault, times = 1): () => void {
    const rule = { match, fault, times };
    this.faults.push(rule);
    return () => {
      rule.times = 0;
    };
  }

  /** Holds every request that matches `ms` before passing it on. */
  delay(match: Match, ms: number) {
    this.delays.push({ match, ms });
  }

  /** The requests that `match`, in the order they arrived. */
  seen(match: Match): Arrival[] {
    return this.arrivals.filter((a) => match(a.method, a.url));
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method!;
    const url = new URL(req.url!, this.target);
    const rule = this.faults.find((f) => f.times > 0 && f.match(method, url));
    if (rule) rule.times--;
    const inFlight = (this.inFlight.get(method) ?? 0) + 1;
    this.inFlight.set(method, inFlight);
    res.once("close", () => this.inFlight.set(method, this.inFlight.get(method)! - 1));
    const arrival: Arrival = { method, url, inFlight, fault: rule?.fault, at: Date.now() };
    this.arrivals.push(arrival);
    const wait = this.delays.find((d) => d.match(method, url))?.ms;
    if (wait) await sleep(wait);

    switch (rule?.fault) {
      case "slow-down":
        return this.answer(req, res, arrival, 503, "application/xml", SLOW_DOWN);
      case "too-many":
        return this.answer(req, res, arrival, 429, "application/xml", TOO_MANY, { "Retry-After": "2" });
      case "bad-gateway":
        return this.answer(req, res, arrival, 502, "text/html", BAD_GATEWAY);
      case "internal-error":
        return this.answer(req, res, arrival, 500, "application/xml", INTERNAL_ERROR);
      case "expired":
        return this.answer(req, res, arrival, 403, "application/xml", EXPIRED);
      case "bad-request":
        return this.answer(req, res, arrival, 400, "application/xml", BAD_REQUEST);
      case "part-to-send-again":
        return this.answer(req, res, arrival, 409, "application/json", JSON.stringify("PartToSendAgain"));
    }
    const upstream = request({
      host: this.target.hostname,
      port: this.target.port,
      method,
      path: req.url,
      headers: req.headers,
    });
    upstream.on("response", (answer) => {
      arrival.status = answer.statusCode;
      arrival.answeredAt = Date.now();
      if (rule?.fault === "lose-answer") {
        // The upstream has answered (the request took effect); the client never hears.
        answer.resume();
        answer.once("end", () => req.socket.resetAndDestroy());
        return;
      }
      res.writeHead(answer.statusCode!, answer.rawHeaders);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (rule?.fault === "corrupt") {
      // One byte in the middle of the body flipped; its length and headers unchanged.
      const middle = Number(req.headers["content-length"] ?? 0) >> 1;
      let at = 0;
      req.on("data", (chunk: Buffer) => {
        if (middle >= at && middle < at + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[middle - at] ^= 0xff;
        }
        at += chunk.length;
        upstream.write(chunk);
      });
      req.on("end", () => upstream.end());
      return;
    }
    if (rule?.fault !== "reset" && rule?.fault !== "stall") {
      req.pipe(upstream);
      return;
    }
    // Half the body goes on, then the fault.
    const half = Number(req.headers["content-length"] ?? 0) / 2;
    let passed = 0;
    req.on("data", (chunk: Buffer) => {
      if (passed >= half) return;
      upstream.write(chunk);
      passed += chunk.length;
      if (passed < half) return;
      if (rule.fault === "reset") {
        req.socket.resetAndDestroy();
        upstream.destroy();
      } else {
        // Nothing more is read: the browser's send buffer fills and its progress stops.
        req.pause();
        arrival.stalledAt = Date.now();
      }
    });
  }

  /** Answers a request itself once its body has arrived, as the store or proxy would. */
  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    arrival: Arrival,
    status: number,
    type: string,
    body: string,
    headers: Record<string, string> = {},
  ) {
    const origin = req.headers.origin;
    // A store answers a CORS request's errors with its CORS headers too (else the
    // browser hides the status from the page), exposing what `--setup-store` exposes.
    const cors = origin
      ? { "Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "ETag, Retry-After", Vary: "Origin" }
      : {};
    req.resume();
    req.once("end", () => {
      arrival.status = status;
      arrival.answeredAt = Date.now();
      res.writeHead(status, { "Content-Type": type, ...cors, ...headers }).end(body);
    });
  }
}
