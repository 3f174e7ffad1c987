/**
 * Building DOM without markup: every string becomes a text node, so a
 * parameter named `<img src=x onerror=alert(1)>` shows as those characters.
 *
 *   el('p', { className: 'note' }, 'steps ', String(a), '–', String(b))
 *   el('button', { type: 'button', onClick: () => …, title: 'Reset zoom' }, 'Reset')
 */
type Child = Node | string | null | undefined | false;

interface Props {
  className?: string;
  title?: string;
  type?: string;
  hidden?: boolean;
  tabIndex?: number;
  /** Other attributes (aria-*, role, data-*), set with setAttribute. */
  attrs?: Record<string, string>;
  onClick?: (event: MouseEvent) => void;
  onKeydown?: (event: KeyboardEvent) => void;
  onChange?: (event: Event) => void;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.title) node.title = props.title;
  if (props.type) node.setAttribute('type', props.type);
  if (props.hidden) node.hidden = true;
  if (props.tabIndex !== undefined) node.tabIndex = props.tabIndex;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  const target: HTMLElement = node;
  if (props.onClick) target.addEventListener('click', props.onClick);
  if (props.onKeydown) target.addEventListener('keydown', props.onKeydown);
  if (props.onChange) target.addEventListener('change', props.onChange);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** The items that are there: drops null, undefined and false. */
export function present<T>(items: Array<T | null | undefined | false>): T[] {
  return items.filter((item): item is T => item !== null && item !== undefined && item !== false);
}

/** A section with a heading; returns the section and its body to fill. */
export function section(id: string, title: string, ...intro: Child[]): { root: HTMLElement; body: HTMLElement } {
  const body = el('div', { className: 'section-body' });
  const headingId = `${id}-heading`;
  const root = el('section', { className: `section section-${id}`, attrs: { 'aria-labelledby': headingId } }, el('h2', { attrs: { id: headingId } }, title), ...intro, body);
  return { root, body };
}
