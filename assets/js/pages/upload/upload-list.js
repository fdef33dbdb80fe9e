// The list of this visit's uploads, newest first: one UploadRow each, redrawn at most five times a
// second however many progress events arrive.
import { Component } from './component.js';
import { UploadRow } from './upload-row.js';

/** Progress events come many times a second per part; the list redraws at most this often. */
const RENDER_EVERY_MS = 200;

export class UploadList extends Component {
  static moduleName = 'upload-list';

  /**
   * `rowConfig`: what every UploadRow is told (`t`, `lang`, `libraryURL`, `onToggle`, `onCancel`).
   * `onRendered()`: runs after each redraw (for the totals, which follow the rows).
   */
  constructor(root, { rowConfig, onRendered = () => {} }) {
    super(root);
    this.rowConfig = rowConfig;
    this.onRendered = onRendered;
    this.rows = new Map();
    this.dirty = new Set();
    this.timer = 0;
  }

  /** Redraws `upload`'s row (adding it at the top the first time) at the next redraw. */
  update(upload) {
    this.dirty.add(upload);
    // Not requestAnimationFrame: a hidden tab still updates its title.
    if (!this.timer) this.timer = setTimeout(() => this.#flush(), RENDER_EVERY_MS);
  }

  #flush() {
    this.timer = 0;
    const now = Date.now();
    for (const upload of this.dirty) (this.rows.get(upload) ?? this.#add(upload)).render(now);
    this.dirty.clear();
    this.onRendered();
  }

  #add(upload) {
    const item = document.createElement('li');
    this.root.prepend(item);
    const row = new UploadRow(item, { upload, ...this.rowConfig });
    this.rows.set(upload, row);
    return row;
  }
}
