// The unfinished uploads of an earlier visit this browser remembers: one row each (name, size, when
// it started), with a button that opens the picker for the same file and one that discards it.
import { Component, smallButton, paragraph } from './component.js';
import { UNFINISHED } from '../../upload/state.js';
import { formatBytes } from '../../format.js';

export class UnfinishedUploads extends Component {
  static moduleName = 'unfinished-uploads';

  /**
   * `t` and `lang`: the page's strings and language. `onPick(record)`: the user wants to pick the
   * file that resumes `record`. `onDiscard(record)`: resolves whether `record` was discarded.
   */
  constructor(root, { t, lang, onPick, onDiscard }) {
    super(root);
    Object.assign(this, { t, lang, onPick, onDiscard });
    this.list = root.querySelector('.upload-list');
  }

  /** Shows `records` (the section hides when there are none). */
  render(records) {
    this.root.hidden = records.length === 0;
    this.list.replaceChildren(...records.map((record) => this.#row(record)));
  }

  /** Puts focus on the button that resumes video `videoId`'s upload; returns whether it is shown. */
  focus(videoId) {
    const button = this.list.querySelector(`[data-video-id="${CSS.escape(videoId)}"] button`);
    button?.focus();
    return Boolean(button);
  }

  #row(record) {
    const { t, lang } = this;
    const item = document.createElement('li');
    item.className = 'upload-item';
    item.dataset.videoId = record.videoId;
    item.dataset.state = UNFINISHED;
    const status = paragraph('upload-status',
      t('upload.unfinishedStatus', { size: formatBytes(record.size, lang), date: new Date(record.startedAt).toLocaleString(lang) }));
    const pick = smallButton(t('upload.pickAgain'), 'primary', () => this.onPick(record));
    pick.dataset.action = 'resume';
    pick.setAttribute('aria-label', `${t('upload.pickAgain')}: ${record.fileName}`);
    const discard = smallButton(t('upload.discard'), 'quiet danger', async () => {
      discard.disabled = true;
      if (!(await this.onDiscard(record))) discard.disabled = false;
    });
    discard.setAttribute('aria-label', `${t('upload.discard')}: ${record.fileName}`);
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(pick, discard);
    item.append(paragraph('upload-name', record.fileName), status, actions);
    return item;
  }
}
