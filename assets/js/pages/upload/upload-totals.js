// The totals over every upload of the visit: bytes sent of all, speed and time left, and a bar.
import { Component } from './component.js';
import { formatBytes, formatSpeed, formatTimeLeft } from '../../format.js';

export class UploadTotals extends Component {
  static moduleName = 'upload-totals';

  /** `t` and `lang`: the page's strings and language. */
  constructor(root, { t, lang }) {
    super(root);
    Object.assign(this, { t, lang });
    this.text = root.querySelector('.totals-text');
    this.bar = root.querySelector('progress');
  }

  /** Draws `summary` (progress.summarize's); hidden while `shown` is false (no upload but cancelled ones). */
  render(summary, { shown }) {
    const { t, lang } = this;
    this.root.hidden = !shown;
    this.bar.value = summary.fraction;
    const parts = [t('upload.bytes', { done: formatBytes(summary.done, lang), size: formatBytes(summary.size, lang) })];
    if (summary.bytesPerSecond > 0) parts.push(formatSpeed(summary.bytesPerSecond, lang));
    const left = summary.bytesPerSecond > 0 ? formatTimeLeft(summary.etaSeconds, lang) : null;
    if (left) parts.push(t('upload.left', { time: left }));
    this.text.textContent = parts.join(' · ');
  }
}
