// The page's notice (what just happened: a file added, an upload cancelled, signed in again) and
// its problem summary (a picked file that cannot resume the upload it was picked for).
import { Component } from './component.js';
import { setNotice, showSummary, hideSummary } from '../../ui/form.js';

export class PageNotice extends Component {
  static moduleName = 'page-notice';

  /** Says `message`; `tone` is `info`, `success` or `warning`. */
  say(message, tone = 'info') {
    setNotice(this.root, message, tone);
  }
}

export class ProblemSummary extends Component {
  static moduleName = 'problem-summary';

  /** Shows `title` and `problems` (`[{ message }]`); the summary takes focus. */
  show(title, problems) {
    showSummary(this.root, title, problems);
  }

  hide() {
    hideSummary(this.root);
  }
}
