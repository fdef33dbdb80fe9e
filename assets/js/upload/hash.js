// Part checksums for the upload page, computed in a dedicated worker (hash-worker.js) so the main
// thread never reads a part's bytes or computes a digest: hashing the next parts overlaps the PUTs of
// the current ones instead of taking turns with them on one thread.
//
// The worker is the build's fingerprinted module from our own origin (`worker-src 'self'`), resolved
// through the page's import map; under Trusted Types its URL passes a policy that accepts that one
// URL and nothing else.

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

/**
 * Hashes Blobs in a worker: `hash(blob)` resolves with the base64 SHA-256 S3 checks. A worker that
 * fails to start or dies fails the calls it held, and the next call starts a new one.
 */
export class WorkerHasher {
  constructor({ url = import.meta.resolve('./hash-worker.js'), start = (u) => new Worker(scriptURLFor(u), { type: 'module', name: 'upload-hashing' }) } = {}) {
    this.url = url;
    this.start = start;
    this.worker = null;
    this.calls = new Map();
    this.nextId = 1;
  }

  hash(blob) {
    const worker = this.#worker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      worker.postMessage({ id, blob });
    });
  }

  /** Stops the worker; calls still waiting fail. */
  close(reason = 'the upload hashing worker stopped') {
    this.worker?.terminate();
    this.worker = null;
    for (const { reject } of this.calls.values()) reject(new Error(reason));
    this.calls.clear();
  }

  #worker() {
    if (this.worker) return this.worker;
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
