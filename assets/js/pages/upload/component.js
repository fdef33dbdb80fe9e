// What the upload page's components share, structured as GOV.UK Frontend structures its own: one
// class per component, constructed on its root element (marked `data-module="<its name>"` in the
// page), keeping to the elements inside it and told everything else through its config. No globals.

export class Component {
  /** The `data-module` value of the component's root in the page. */
  static moduleName = '';

  constructor(root) {
    if (!(root instanceof HTMLElement)) throw new TypeError(`${this.constructor.moduleName}: no root element to start on`);
    this.root = root;
  }

  /** The component started on the element under `scope` marked with its `data-module`. */
  static in(scope, config) {
    return new this(scope.querySelector(`[data-module="${this.moduleName}"]`), config);
  }
}

/** A small `<button type="button">` of class `button small <className>` saying `label`. */
export function smallButton(label, className, onClick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = `button small ${className}`;
  element.textContent = label;
  element.addEventListener('click', onClick);
  return element;
}

/** A `<p>` of class `className` saying `text`. */
export function paragraph(className, text = '') {
  const element = document.createElement('p');
  element.className = className;
  element.textContent = text;
  return element;
}
