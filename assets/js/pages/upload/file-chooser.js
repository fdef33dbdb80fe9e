// The file chooser: the drop zone, a button that opens the file picker and takes files dropped on it.
import { Component } from './component.js';

export class FileChooser extends Component {
  static moduleName = 'file-chooser';

  /** `onFiles(files)` gets the files picked or dropped, never none. */
  constructor(root, { onFiles }) {
    super(root);
    this.zone = root.querySelector('.dropzone');
    this.input = root.querySelector('input[type=file]');
    this.onFiles = onFiles;
    this.zone.addEventListener('click', () => this.open());
    this.input.addEventListener('change', () => {
      const files = [...this.input.files];
      this.input.value = '';
      if (files.length) this.onFiles(files);
    });
    for (const type of ['dragenter', 'dragover']) {
      this.zone.addEventListener(type, (event) => {
        if (![...(event.dataTransfer?.types ?? [])].includes('Files')) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        this.zone.classList.add('over');
      });
    }
    this.zone.addEventListener('dragleave', () => this.zone.classList.remove('over'));
    this.zone.addEventListener('drop', (event) => {
      event.preventDefault();
      this.zone.classList.remove('over');
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length) this.onFiles(files);
    });
    // A file dropped beside the zone must not make the browser leave the page to open it.
    const view = root.ownerDocument.defaultView;
    view.addEventListener('dragover', (event) => event.preventDefault());
    view.addEventListener('drop', (event) => event.preventDefault());
  }

  /** Opens the file picker. */
  open() {
    this.input.click();
  }
}
