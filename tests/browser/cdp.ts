/**
 * A minimal Chrome DevTools Protocol driver for the real-browser test: launches an installed
 * Chromium or Chrome (see find_browser.ts) headless with a fresh profile, speaks CDP over Deno's
 * built-in WebSocket, and offers the few page operations the login test needs (navigate, wait for
 * an element, click it like a user, read the page). It never downloads a browser.
 *
 * @module
 */
import { spawnBounded } from "../helpers/bounded.ts";

/** One CDP connection to the browser, with flat sessions for pages. */
export class Cdp {
  readonly #socket: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (typeof message.id !== "number") return; // events are not needed: pages are polled
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`CDP: ${message.error.message}`));
      else waiter.resolve(message.result ?? {});
    };
    socket.onclose = () => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error("CDP: socket closed"));
      this.#pending.clear();
    };
  }

  /** Connects to the browser's DevTools WebSocket URL. */
  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => resolve(new Cdp(socket));
      socket.onerror = () => reject(new Error(`CDP: cannot connect to ${url}`));
    });
  }

  /** Sends one command (to a page when `sessionId` is given) and returns its result. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  /** Opens a new tab and returns a page handle attached to it. */
  async newPage(): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, String(sessionId));
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    return page;
  }

  /** Closes the socket. */
  close(): void {
    this.#socket.close();
  }
}

/** One tab. */
export class Page {
  readonly #cdp: Cdp;
  readonly #sessionId: string;

  constructor(cdp: Cdp, sessionId: string) {
    this.#cdp = cdp;
    this.#sessionId = sessionId;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.#cdp.send(method, params, this.#sessionId);
  }

  /** Evaluates an expression in the page and returns its (JSON) value. */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.send("Runtime.evaluate", { expression, returnByValue: true });
    if (reply.exceptionDetails) throw new Error(`page: ${JSON.stringify(reply.exceptionDetails)}`);
    return (reply.result as { value: T }).value;
  }

  async navigate(url: string): Promise<void> {
    const reply = await this.send("Page.navigate", { url });
    if (reply.errorText) throw new Error(`navigation to ${url} failed: ${reply.errorText}`);
  }

  /**
   * Waits until `expression` is truthy in a fully loaded page, polling (navigations in between
   * destroy the context; those errors only mean "not yet").
   */
  async waitFor(expression: string, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const ok = await this.evaluate<boolean>(
          `document.readyState === "complete" && Boolean(${expression})`,
        );
        if (ok) return;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const href = await this.evaluate<string>("location.href").catch(() => "?");
    throw new Error(`timed out waiting for ${what} (at ${href}) ${last}`);
  }

  /** Clicks the centre of the element `selector` with real mouse events. */
  async click(selector: string): Promise<void> {
    const box = await this.evaluate<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (!box) throw new Error(`no element ${selector}`);
    for (const type of ["mouseMoved", "mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", {
        type,
        x: box.x,
        y: box.y,
        button: "left",
        clickCount: type === "mouseMoved" ? 0 : 1,
      });
    }
  }
}

/** A running headless Chromium with its own temporary profile. */
export interface Chromium extends AsyncDisposable {
  readonly cdp: Cdp;
}

/**
 * Launches Chromium or Chrome (`executable`) headless on a fresh profile and connects to it.
 * Disposing closes the browser and removes the profile directory.
 */
export async function launchChromium(executable: string): Promise<Chromium> {
  const userDataDir = await Deno.makeTempDir({ prefix: "aws-login-chromium-" });
  const child = spawnBounded(executable, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--remote-debugging-port=0",
      `--user-data-dir=${userDataDir}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const cleanup = async () => {
    // Its renderer and helper processes go with it: they are in its process group.
    await child[Symbol.asyncDispose]();
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
  };
  let wsUrl: string;
  try {
    wsUrl = await devToolsUrl(child.stderr);
  } catch (err) {
    await cleanup();
    throw err;
  }
  let cdp: Cdp;
  try {
    cdp = await Cdp.connect(wsUrl);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    cdp,
    async [Symbol.asyncDispose]() {
      await cdp.send("Browser.close").catch(() => {});
      cdp.close();
      // A graceful close gets 5 s; whatever is left then is killed.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        child.status.catch(() => {}),
        new Promise((r) => timer = setTimeout(r, 5000)),
      ]);
      clearTimeout(timer);
      await cleanup();
    },
  };
}

/** Reads Chromium's stderr until "DevTools listening on ws://…"; keeps draining it after. */
async function devToolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timer = setTimeout(() => reader.cancel("timeout"), 30_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Chromium exited before DevTools was ready:\n${seen.slice(-2000)}`);
      seen += value;
      const url = /DevTools listening on (ws:\/\/\S+)/.exec(seen)?.[1];
      if (url) {
        // Keep reading so Chromium never blocks on a full pipe.
        (async () => {
          try {
            while (!(await reader.read()).done) { /* discard */ }
          } catch { /* closed */ }
        })();
        return url;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
