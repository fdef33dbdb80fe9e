// Part checksums for the upload page, computed in a dedicated worker (hash-worker.js) so the main
// thread never reads a part's bytes or computes a digest: hashing the next parts overlaps the PUTs of
// the current ones instead of taking turns with them on one thread.
//
// The worker is the build's fingerprinted module from our own origin (`worker-src 'self'`), resolved
// through the page's import map; under Trusted Types its URL passes a policy that accepts that one
// URL and nothing else. A worker's script takes no `integrity` attribute, so before starting it the
// page fetches it with the import map's SHA-384 (a mismatch rejects) and starts it only if it matched.

export const POLICY = 'upload-worker';
const policies = new WeakMap();

/**
 * `url` as the Worker constructor takes it under `require-trusted-types-for 'script'`: through the
 * one policy the site's CSP names, which passes the URL of the first worker it was made for and
 * nothing else. Without Trusted Types, the URL as it is.
 */
export function scriptURLFor(url, types = globalThis.trustedTypes) {
  if (!types?.createPolicy) return url;
  if (!policies.has(types)) {
    policies.set(types, types.createPolicy(POLICY, {
      createScriptURL: (value) => {
        if (value !== url) throw new TypeError(`${value} is not the upload hashing worker`);
        return value;
      },
    }));
  }
  return policies.get(types).createScriptURL(url);
}

/** The SHA-384 the page's import map gives for `url` (the build writes one for every module), or null. */
export function importMapIntegrity(url, doc = globalThis.document) {
  const map = doc?.querySelector?.('script[type="importmap"]');
  if (!map) return null;
  try {
    return JSON.parse(map.textContent).integrity?.[new URL(url, doc.baseURI).pathname] ?? null;
  } catch {
    return null;
  }
}

/** Fetches `url` with `integrity`: resolves when its bytes match, rejects (a TypeError) when they do not. */
async function verify(url, integrity) {
  const response = await fetch(url, { integrity, credentials: 'same-origin' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  await response.arrayBuffer();
}

/** How long one part's hash may take before the worker is taken to be stuck (a part is at most 525 MiB). */
export const HASH_TIMEOUT_MS = 120_000;

/**
 * Hashes Blobs in a worker: `hash(blob)` resolves with the base64 SHA-256 S3 checks. A worker whose
 * script does not match `integrity` is never started; one that fails to start, dies, or leaves a
 * call unanswered for `timeoutMs` fails the calls it held (and is stopped), and the next call starts
 * a new one: an upload never waits forever on its hashes.
 */
export class WorkerHasher {
  constructor({ url = import.meta.resolve('./hash-worker.js'), integrity = importMapIntegrity(url), check = verify,
    start = (u) => new Worker(scriptURLFor(u), { type: 'module', name: 'upload-hashing' }), timeoutMs = HASH_TIMEOUT_MS } = {}) {
    Object.assign(this, { url, integrity, check, start, timeoutMs });
    this.worker = null;
    this.starting = null;
    this.calls = new Map();
    this.nextId = 1;
  }

  async hash(blob) {
    const worker = await this.#worker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.worker === worker) this.close(`the upload hashing worker answered nothing for ${this.timeoutMs / 1000} s`);
      }, this.timeoutMs);
      const settle = (how) => (value) => { clearTimeout(timer); how(value); };
      this.calls.set(id, { resolve: settle(resolve), reject: settle(reject) });
      worker.postMessage({ id, blob });
    });
  }

  /** Stops the worker; calls still waiting fail. */
  close(reason = 'the upload hashing worker stopped') {
    this.worker?.terminate();
    this.worker = null;
    this.starting = null;
    for (const { reject } of this.calls.values()) reject(new Error(reason));
    this.calls.clear();
  }

  #worker() {
    this.starting ??= this.#startChecked().catch((error) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  async #startChecked() {
    if (this.integrity) {
      try {
        await this.check(this.url, this.integrity);
      } catch (error) {
        throw new Error(`the upload hashing worker ${this.url} does not match its integrity ${this.integrity}, so it was not started (${error?.message ?? error})`);
      }
    }
    const worker = this.start(this.url);
    worker.addEventListener('message', ({ data }) => {
      const call = this.calls.get(data.id);
      if (!call) return;
      this.calls.delete(data.id);
      if (data.error === undefined) call.resolve(data.checksum);
      else call.reject(new Error(`hashing failed: ${data.error}`));
    });
    const lost = (event) => {
      event.preventDefault?.();
      if (this.worker === worker) this.close(`the upload hashing worker failed: ${event.message ?? 'it could not start'}`);
    };
    worker.addEventListener('error', lost);
    worker.addEventListener('messageerror', lost);
    this.worker = worker;
    return worker;
  }
}
