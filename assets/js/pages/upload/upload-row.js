// One upload's row: its name, a progress bar, what it is doing (bytes, speed, time left), why it
// stopped, and its buttons: one that pauses, resumes or retries (as state.js's controls say), cancel,
// and the way to the library once it is done. Its `data-state` is the upload's state.
import { Component, smallButton, paragraph } from './component.js';
import { controls, videoStatus } from '../../upload/state.js';
import { UploadError } from '../../upload/item.js';
import { eta } from '../../upload/progress.js';
import { MAX_FILE, MiB } from '../../upload/plan.js';
import { formatBytes, formatSpeed, formatTimeLeft } from '../../format.js';
import { refusalMessage } from '../../limits.js';

export class UploadRow extends Component {
  static moduleName = 'upload-row';

  /**
   * `root`: an empty `<li>` the row fills. `upload`: the engine's Upload. `t` and `lang`: the page's
   * strings and language. `libraryURL`: where "Open library" leads. `onToggle(upload)`: the pause
   * button was pressed (it pauses, resumes or retries). `onCancel(upload)`: cancel was pressed.
   */
  constructor(root, { upload, t, lang, libraryURL, onToggle, onCancel }) {
    super(root);
    Object.assign(this, { upload, t, lang });
    root.className = 'upload-item';
    root.dataset.module = UploadRow.moduleName;
    root.dataset.uploadId = String(upload.id);
    this.bar = document.createElement('progress');
    this.bar.max = 1;
    this.bar.value = 0;
    this.bar.setAttribute('aria-label', t('upload.progressOf', { name: upload.name }));
    this.status = paragraph('upload-status');
    // How the file goes: its parts and how many are on the wire at once (the pace learns it).
    this.details = paragraph('upload-details');
    this.details.hidden = true;
    this.error = paragraph('upload-error');
    this.error.setAttribute('role', 'alert');
    this.error.hidden = true;
    this.toggle = smallButton(t('upload.pause'), 'quiet', () => onToggle(upload));
    this.toggle.dataset.action = 'pause';
    this.cancel = smallButton(t('upload.cancel'), 'quiet danger', () => {
      this.cancel.disabled = true;
      onCancel(upload);
    });
    this.cancel.dataset.action = 'cancel';
    this.open = document.createElement('a');
    this.open.className = 'button small quiet';
    this.open.href = libraryURL;
    this.open.textContent = t('upload.openLibrary');
    this.open.hidden = true;
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(this.toggle, this.cancel, this.open);
    root.append(paragraph('upload-name', upload.name), this.bar, this.status, this.details, this.error, actions);
  }

  /** Draws the upload as it is at `now` (ms). */
  render(now = Date.now()) {
    const { upload, t } = this;
    this.root.dataset.state = upload.state;
    this.root.dataset.status = videoStatus(upload.state);
    if (upload.videoId) this.root.dataset.videoId = upload.videoId;
    const done = upload.state === 'done' ? upload.size : upload.done;
    this.bar.value = upload.size ? done / upload.size : 0;
    this.status.textContent = this.#statusText(done, now);
    this.#renderDetails();
    const offers = controls(upload);
    this.error.hidden = !offers.problem;
    if (offers.problem) this.error.textContent = this.#errorText(upload.error);
    this.toggle.hidden = !offers.toggle;
    this.toggle.textContent = t(`upload.${offers.toggle ?? 'resume'}`);
    this.toggle.setAttribute('aria-label', `${this.toggle.textContent}: ${upload.name}`);
    this.cancel.hidden = !offers.cancel;
    this.cancel.setAttribute('aria-label', `${t('upload.cancel')}: ${upload.name}`);
    this.open.hidden = !offers.open;
    if (upload.state === 'cancelled') this.root.classList.add('gone');
  }

  #statusText(done, now) {
    const { upload, t, lang } = this;
    const bytes = t('upload.bytes', { done: formatBytes(done, lang), size: formatBytes(upload.size, lang) });
    switch (upload.state) {
      case 'uploading': {
        const speed = upload.meter.bytesPerSecond(now);
        const left = formatTimeLeft(eta(upload.size - done, speed), lang);
        return [bytes, speed ? formatSpeed(speed, lang) : t('upload.starting'), left ? t('upload.left', { time: left }) : null].filter(Boolean).join(' · ');
      }
      case 'queued': return t('upload.waiting');
      case 'paused': return `${bytes} · ${t('upload.paused')}`;
      case 'session': return `${bytes} · ${t('upload.waitingSession')}`;
      case 'completing': return t('upload.completing');
      case 'done': return t('upload.done', { size: formatBytes(upload.size, this.lang) });
      case 'cancelled': return t('upload.cancelledShort');
      case 'failed': return upload.done ? `${bytes} · ${t('upload.stopped')}` : t('upload.stopped');
      default: return '';
    }
  }

  #renderDetails() {
    const { upload, t, lang } = this;
    const shown = upload.method === 'multipart' && upload.plan && ['uploading', 'paused', 'session', 'completing', 'done'].includes(upload.state);
    this.details.hidden = !shown;
    if (!shown) return;
    const whole = new Intl.NumberFormat(lang);
    this.root.dataset.partSize = String(upload.plan.partSize);
    this.root.dataset.parallel = String(upload.parallel ?? '');
    this.details.textContent = t('upload.details', {
      count: whole.format(upload.plan.count), size: `${whole.format(upload.plan.partSize / MiB)} MiB`, parallel: whole.format(upload.parallel ?? 0),
    });
  }

  #errorText(error) {
    if (!error) return '';
    const key = error instanceof UploadError ? error.key : 'unexpected';
    if (key === 'limit') return refusalMessage(error.limit, this);
    const message = this.t(`upload.error.${key}`, { max: formatBytes(MAX_FILE, this.lang) });
    return error.detail && ['store', 'refused', 'unexpected'].includes(key) ? `${message} (${error.detail})` : message;
  }
}
